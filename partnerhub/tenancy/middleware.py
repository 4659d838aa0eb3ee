"""Runs each request in one transaction with its tenant active (ORM scope + RLS setting)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from partnerhub.tenancy import context
from partnerhub.tenancy.selectors import membership_for_request

SESSION_KEY = "partnerhub_tenant_id"


class TenantMiddleware:
    """Resolve the session user's active tenant and run the request as that tenant.

    API requests authenticated by a bearer token activate their token's tenant later, in
    the DRF authentication class; the scope opened here resets it when the request ends.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with context.tenant_scope(), transaction.atomic():
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
            context.set_db_setting(context.USER_SETTING, user_id)
            membership = membership_for_request(request, SESSION_KEY) if user_id else None
            request.membership = membership  # type: ignore[attr-defined]
            request.tenant = membership.tenant if membership else None  # type: ignore[attr-defined]
            context.activate(request.tenant)  # type: ignore[attr-defined]
            response = self.get_response(request)
            if response.status_code >= 500:
                # The view failed: whatever it wrote before failing must not stay.
                transaction.set_rollback(True)
            return response
