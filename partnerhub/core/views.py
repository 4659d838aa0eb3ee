from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.generic import TemplateView

from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, Role, role_has_perm


class DashboardView(RolePermissionRequiredMixin, TemplateView):
    """Home of a signed-in user: the areas fill it in (partners, KPIs, settlements).

    Partner users have no dashboard here: their home is the portal.
    """

    template_name = "core/dashboard.html"
    read_perm = Perm.DASHBOARD_VIEW

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and request_role(request) == Role.PARTNER:
            try:
                return redirect(reverse("portal:home"))
            except NoReverseMatch:
                return redirect("/portal/")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # The domain apps are imported here, not at module level: core must not depend on them
        # to load (they depend on core).
        context = super().get_context_data(**kwargs)
        role = request_role(self.request)
        cards: list[dict[str, Any]] = []
        if role_has_perm(role, Perm.PARTNERS_VIEW):
            from partners.selectors.dashboard import dashboard_data

            context["partner_dashboard"] = dashboard_data(user=self.request.user)  # type: ignore[arg-type]
        if role_has_perm(role, Perm.KPIS_VIEW):
            from kpis.selectors.alerts import drift_alert_open_count

            cards.append(
                {
                    "title": "Open KPI drift alerts",
                    "value": drift_alert_open_count(),
                    "description": "Partners whose KPIs shifted or whose targets are at risk.",
                    "icon": "graph-down-arrow",
                    "url": reverse("kpis:alert-list"),
                    "testid": "card-kpi-alerts",
                }
            )
        if role_has_perm(role, Perm.SETTLEMENTS_VIEW):
            from settlements.selectors.overview import settlement_overview

            overview = settlement_overview()
            run = overview.latest_run
            cards.append(
                {
                    "title": "Draft statements",
                    "value": overview.draft_statements,
                    "description": (
                        f"Latest run: {run.month:%B %Y}, {run.get_status_display().lower()}."
                        if run
                        else "No settlement run yet."
                    ),
                    "icon": "cash-coin",
                    "url": reverse("settlements:run-list"),
                    "testid": "card-draft-statements",
                }
            )
            if role_has_perm(role, Perm.SETTLEMENTS_APPROVE):
                cards.append(
                    {
                        "title": "Finance dashboard",
                        "value": overview.approved_statements,
                        "description": "Approved statements waiting for payment; "
                        "payables, receivables, disputes and unsettled usage.",
                        "icon": "bank",
                        "url": reverse("settlements:finance-dashboard"),
                        "testid": "card-finance-dashboard",
                    }
                )
            if overview.disputed_statements:
                cards.append(
                    {
                        "title": "Disputed statements",
                        "value": overview.disputed_statements,
                        "description": "Statements a partner has disputed.",
                        "icon": "exclamation-octagon",
                        "url": reverse("settlements:run-list"),
                        "testid": "card-disputed-statements",
                    }
                )
        context["cards"] = cards
        return context


def client_ip(request: HttpRequest) -> str:
    """The client's address behind ``PARTNERHUB_PROXY_COUNT`` trusted reverse proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so the
    client is the entry that many places from the right; anything left of it is client-supplied.
    """
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part
    ]
    count = settings.PROXY_COUNT
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return str(request.META.get("REMOTE_ADDR", ""))


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer of a rate-limited form (django-ratelimit): 429 with a page that says to wait."""
    return render(request, "core/rate_limited.html", status=429)
