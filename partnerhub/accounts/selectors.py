"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from partnerhub.accounts.models import ApiToken, User, token_digest
from partnerhub.accounts.roles import Perm, role_has_perm
from partnerhub.tenancy import context
from partnerhub.tenancy.models import Membership


def api_token_by_raw(raw: str) -> ApiToken | None:
    """The usable token whose secret is ``raw``, with its user and tenant, or None.

    Runs before any tenant is known: the digest is set for RLS, which reveals that row only.
    """
    digest = token_digest(raw)
    context.set_db_setting(context.TOKEN_SETTING, digest)
    try:
        token = (
            ApiToken.lookup.select_related("user", "tenant")
            .filter(digest=digest, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
    finally:
        context.set_db_setting(context.TOKEN_SETTING, None)
    if token is None or not token.user.is_active or not token.tenant.is_active:
        return None
    return token


def membership_of(*, user: User, tenant_id: int) -> Membership | None:
    return (
        Membership.across_tenants.select_related("tenant")
        .filter(user=user, tenant_id=tenant_id, tenant__is_active=True)
        .first()
    )


def api_token_list(*, user: User, role: str | None) -> QuerySet[ApiToken]:
    """Tokens of the active tenant the user may see: their own, or all for tenant admins."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")
    if not role_has_perm(role, Perm.TENANT_MANAGE):
        tokens = tokens.filter(user=user)
    return tokens
