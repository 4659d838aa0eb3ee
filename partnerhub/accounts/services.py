"""Writes for accounts: users, API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from partnerhub.accounts.models import ApiToken, User, token_digest
from partnerhub.tenancy.context import require_current_tenant

TOKEN_PREFIX = "ph_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


@transaction.atomic
def api_token_create(*, user: User, name: str = "", ttl_days: int | None = None) -> IssuedToken:
    """Issue a bearer token for ``user`` in the active tenant; only its digest is kept."""
    tenant = require_current_tenant()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    days = ttl_days if ttl_days is not None else settings.API_TOKEN_TTL_DAYS
    token = ApiToken(
        tenant=tenant,
        user=user,
        name=name[:100],
        prefix=raw[:10],
        digest=token_digest(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def api_tokens_purge_expired(*, older_than_days: int = 30) -> int:
    """Delete tokens of the active tenant that expired or were revoked long ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    stale = ApiToken.objects.filter(expires_at__lt=cutoff) | ApiToken.objects.filter(
        revoked_at__lt=cutoff
    )
    count = 0
    for token in stale:  # one by one so each deletion lands in the audit trail
        token.delete()
        count += 1
    return count
