"""Pages: plans and their versions, settlement runs (start, progress) with their statements."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View

from kpis.periods import Period
from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from partners.models import Partner
from settlements.models import SettlementRun, Statement
from settlements.selectors.overview import partner_statement_list
from settlements.selectors.plans import plan_list
from settlements.services import runs as run_services


def _can_change(request: HttpRequest) -> bool:
    return role_has_perm(request_role(request), Perm.SETTLEMENTS_CHANGE)


class PlanListView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "settlements/engine/plans.html",
            {"plans": plan_list(), "tab": "plans", "area": "settlements"},
        )


class PlanDetailView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(plan_list(), pk=pk)
        return render(
            request,
            "settlements/engine/plan_detail.html",
            {"plan": plan, "versions": plan.versions.all(), "tab": "plans", "area": "settlements"},
        )


class RunListView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE

    def _render(self, request: HttpRequest, error: str = "") -> HttpResponse:
        runs = SettlementRun.objects.order_by("-created_at")[:50]
        return render(
            request,
            "settlements/engine/runs.html",
            {
                "runs": runs,
                "error": error,
                "can_change": _can_change(request),
                "tab": "runs",
                "area": "settlements",
            },
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            period = Period.parse(request.POST.get("month", ""))
            run = run_services.settlement_run_start(
                month=period.start,
                user=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            return self._render(request, error=" ".join(exc.messages))
        messages.success(request, f"Settlement run for {run.month:%Y-%m} started.")
        return HttpResponseRedirect(reverse("settlements:run-detail", args=[run.pk]))


class RunDetailView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(SettlementRun.objects.all(), pk=pk)
        statements = (
            Statement.objects.filter(month=run.month)
            .select_related("partner", "plan_version__plan")
            .order_by("partner__legal_name")
        )
        template = (
            "settlements/engine/_run_progress.html"
            if request.headers.get("HX-Request")
            else "settlements/engine/run_detail.html"
        )
        context: dict[str, Any] = {
            "run": run,
            "statements": statements,
            "tab": "runs",
            "area": "settlements",
        }
        return render(request, template, context)


class PartnerStatementsView(RolePermissionRequiredMixin, View):
    """The partner page's settlement card (an htmx fragment): its latest statements."""

    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = get_object_or_404(Partner.objects.all(), pk=pk)
        return render(
            request,
            "settlements/engine/_partner_statements.html",
            {"partner": partner, "statements": partner_statement_list(partner=partner)},
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("plans/", PlanListView.as_view(), name="plan-list"),
    path("plans/<int:pk>/", PlanDetailView.as_view(), name="plan-detail"),
    path("runs/", RunListView.as_view(), name="run-list"),
    path("runs/<int:pk>/", RunDetailView.as_view(), name="run-detail"),
    path(
        "partners/<int:pk>/statements/",
        PartnerStatementsView.as_view(),
        name="partner-statements",
    ),
]
