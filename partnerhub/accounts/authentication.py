"""``Authorization: Bearer <token>`` for the API; the token picks the tenant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from partnerhub.accounts.models import ApiToken
from partnerhub.accounts.selectors import api_token_by_raw, membership_of
from partnerhub.tenancy import context

LAST_USED_RESOLUTION = timedelta(minutes=5)


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        token = api_token_by_raw(raw)
        if token is None:
            raise AuthenticationFailed("Invalid, expired or revoked token.")
        context.set_db_setting(context.USER_SETTING, token.user_id)
        membership = membership_of(user=token.user, tenant_id=token.tenant_id)
        if membership is None:
            raise AuthenticationFailed("The token's user no longer belongs to its tenant.")
        context.activate(token.tenant)
        django_request = request._request
        django_request.tenant = token.tenant  # type: ignore[attr-defined]
        django_request.membership = membership  # type: ignore[attr-defined]
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
