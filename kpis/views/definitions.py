"""Pages: KPI definitions (list, create, edit) and targets (history, set a new one)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.generic import TemplateView, View

from kpis.forms import KpiDefinitionForm, KpiTargetForm
from kpis.models import KpiDefinition
from kpis.selectors.definitions import kpi_definition_list, kpi_target_list
from kpis.services.definitions import kpi_definition_create, kpi_definition_update
from kpis.services.targets import kpi_target_set
from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm


def _can_change(request: HttpRequest) -> bool:
    return role_has_perm(request_role(request), Perm.KPIS_CHANGE)


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class DefinitionListView(RolePermissionRequiredMixin, TemplateView):
    template_name = "kpis/definitions/list.html"
    read_perm = Perm.KPIS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["definitions"] = kpi_definition_list()
        context["can_change"] = _can_change(self.request)
        return context


class DefinitionFormView(RolePermissionRequiredMixin, View):
    """Create (no pk) or edit a KPI definition; the service validates and saves."""

    read_perm = Perm.KPIS_CHANGE
    write_perm = Perm.KPIS_CHANGE
    template_name = "kpis/definitions/form.html"

    def _definition(self, pk: int | None) -> KpiDefinition | None:
        return get_object_or_404(KpiDefinition, pk=pk) if pk else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        definition = self._definition(pk)
        form = KpiDefinitionForm(instance=definition)
        return render(request, self.template_name, {"form": form, "definition": definition})

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
        definition = self._definition(pk)
        form = KpiDefinitionForm(request.POST, instance=definition)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                if definition is None:
                    definition = kpi_definition_create(**data)
                else:
                    definition = kpi_definition_update(
                        definition=KpiDefinition.objects.get(pk=definition.pk), data=data
                    )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"Saved KPI “{definition.name}”.")
                return redirect("kpis:definitions")
        return render(
            request, self.template_name, {"form": form, "definition": definition}, status=400
        )


class TargetListView(RolePermissionRequiredMixin, View):
    """Targets with their history; a manager sets a new one (the current row is closed)."""

    read_perm = Perm.KPIS_VIEW
    write_perm = Perm.KPIS_CHANGE
    template_name = "kpis/targets.html"

    def _render(self, request: HttpRequest, form: KpiTargetForm, status: int = 200) -> HttpResponse:
        targets = kpi_target_list()
        kpi = request.GET.get("kpi")
        if kpi:
            targets = targets.filter(kpi__key=kpi)
        partner = request.GET.get("partner", "")
        if partner.isdigit():
            targets = targets.filter(partner_id=int(partner))
        current_only = request.GET.get("current") == "1"
        if current_only:
            targets = targets.filter(effective_to__isnull=True)
        context = {
            "form": form,
            "targets": targets[:500],
            "definitions": KpiDefinition.objects.order_by("name"),
            "selected_kpi": kpi or "",
            "current_only": current_only,
            "can_change": _can_change(request),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, KpiTargetForm())

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = KpiTargetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = kpi_target_set(
                    kpi=data["kpi"],
                    value=data["value"],
                    effective_from=data["effective_from"],
                    partner=data["partner"],
                    partner_type=data["partner_type"],
                    tier=data["tier"],
                    period_kind=data["period_kind"],
                    weight=data["weight"],
                    agreement=data["agreement"],
                    user=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request, f"Target for {target.kpi.name} set from {target.effective_from}."
                )
                return redirect("kpis:targets")
        return self._render(request, form, status=400)


urlpatterns = [
    path("definitions/", DefinitionListView.as_view(), name="definitions"),
    path("definitions/new/", DefinitionFormView.as_view(), name="definition-create"),
    path("definitions/<int:pk>/", DefinitionFormView.as_view(), name="definition-edit"),
    path("targets/", TargetListView.as_view(), name="targets"),
]
