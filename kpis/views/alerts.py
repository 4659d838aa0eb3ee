"""Pages: drift alerts list (filters) and detail (acknowledge, resolve, owner, notes)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View
from django.views.generic import ListView, TemplateView

from kpis.models import DriftAlert, KpiDefinition
from kpis.selectors.alerts import drift_alert_get, drift_alert_list
from kpis.services.alerts import drift_alert_acknowledge, drift_alert_resolve, drift_alert_update
from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, Role, role_has_perm
from partnerhub.tenancy.models import Membership
from partners.models import Partner


def _partners(request: HttpRequest | None) -> Any:
    return Partner.objects.order_by("legal_name")


def _kpis(request: HttpRequest | None) -> Any:
    return KpiDefinition.objects.order_by("name")


class AlertPageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=DriftAlert.Status.choices, empty_label="Any status"
    )
    kind = django_filters.ChoiceFilter(choices=DriftAlert.Kind.choices, empty_label="Any kind")
    partner = django_filters.ModelChoiceFilter(queryset=_partners, empty_label="Any partner")
    kpi = django_filters.ModelChoiceFilter(queryset=_kpis, label="KPI", empty_label="Any KPI")

    class Meta:
        model = DriftAlert
        fields: list[str] = []


class DriftAlertListView(RolePermissionRequiredMixin, ListView):
    """Drift alerts, newest first, filterable by status, kind, partner and KPI."""

    template_name = "kpis/alerts/list.html"
    read_perm = Perm.KPIS_VIEW
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.filterset = AlertPageFilter(self.request.GET, queryset=drift_alert_list())
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["area"] = "kpis"
        return context


class AlertNoteForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _members() -> Any:
    return User.objects.filter(
        pk__in=Membership.objects.exclude(role=Role.PARTNER).values("user_id"), is_active=True
    ).order_by("email")


class DriftAlertDetailView(RolePermissionRequiredMixin, TemplateView):
    template_name = "kpis/alerts/detail.html"
    read_perm = Perm.KPIS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        alert = drift_alert_get(pk=kwargs["pk"])
        if alert is None:
            raise Http404("No such alert.")
        context.update(
            alert=alert,
            area="kpis",
            can_change=role_has_perm(request_role(self.request), Perm.KPIS_CHANGE),
            members=_members(),
            note_form=AlertNoteForm(),
        )
        return context


class DriftAlertActionView(RolePermissionRequiredMixin, View):
    """POST acknowledge / resolve / update (owner, note), then back to the detail page."""

    read_perm = Perm.KPIS_VIEW
    write_perm = Perm.KPIS_CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, verb: str) -> HttpResponse:
        alert = drift_alert_get(pk=pk)
        if alert is None:
            raise Http404("No such alert.")
        form = AlertNoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        user: Any = request.user
        try:
            if verb == "acknowledge":
                drift_alert_acknowledge(alert=alert, user=user, note=note)
                messages.success(request, "Alert acknowledged.")
            elif verb == "resolve":
                drift_alert_resolve(alert=alert, user=user, note=note)
                messages.success(request, "Alert resolved.")
            elif verb == "update":
                owner: User | bool | None = False
                if "owner" in request.POST:
                    raw = request.POST["owner"]
                    owner = _members().filter(pk=raw).first() if raw.isdigit() else None
                    if raw and owner is None:
                        raise ValidationError({"owner": "Choose a member of this workspace."})
                drift_alert_update(alert=alert, user=user, owner=owner, note=note)
                messages.success(request, "Alert updated.")
            else:
                raise Http404("No such action.")
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        return HttpResponseRedirect(reverse("kpis:alert-detail", args=[alert.pk]))


urlpatterns: list[URLPattern | URLResolver] = [
    path("alerts/", DriftAlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", DriftAlertDetailView.as_view(), name="alert-detail"),
    path(
        "alerts/<int:pk>/<str:verb>/",
        DriftAlertActionView.as_view(),
        name="alert-action",
    ),
]
