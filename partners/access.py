"""Who may see which partner: CSP roles see the tenant's partners, partner users only theirs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.http import Http404, HttpRequest, HttpResponseBase
from rest_framework.permissions import BasePermission

from partnerhub.accounts.permissions import request_role
from partnerhub.accounts.roles import Perm, Role, role_has_perm
from partners.models import Partner, PartnerStatus, PartnerUser

_UNSET = object()


def portal_partner(request: Any) -> Partner | None:
    """The partner of a portal user (role ``partner``), cached on the request; else None.

    Exited partners can no longer use the portal.
    """
    django_request = getattr(request, "_request", request)
    cached = getattr(django_request, "_portal_partner", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    partner = None
    if request_role(django_request) == Role.PARTNER and django_request.user.is_authenticated:
        link = (
            PartnerUser.objects.select_related("partner")
            .filter(user=django_request.user)
            .exclude(partner__status=PartnerStatus.EXITED)
            .first()
        )
        partner = link.partner if link else None
    django_request._portal_partner = partner
    return partner


class PortalRequiredMixin(AccessMixin):
    """Portal pages: a signed-in partner user; sets ``self.partner``."""

    partner: Partner

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not role_has_perm(request_role(request), Perm.PORTAL_ACCESS):
            return self.handle_no_permission()
        partner = portal_partner(request)
        if partner is None:
            raise Http404("No partner for this account.")
        self.partner = partner
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class IsPortalUser(BasePermission):
    """API endpoints of the portal: the caller is a partner user of a (not exited) partner."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not role_has_perm(request_role(request), Perm.PORTAL_ACCESS):
            return False
        return portal_partner(request) is not None
