from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
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
        context = super().get_context_data(**kwargs)
        context["cards"] = []
        if role_has_perm(request_role(self.request), Perm.PARTNERS_VIEW):
            from partners.selectors.dashboard import dashboard_data

            context["partner_dashboard"] = dashboard_data(user=self.request.user)  # type: ignore[arg-type]
        return context
