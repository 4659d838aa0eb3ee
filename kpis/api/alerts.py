"""API: drift alerts (list, retrieve, filter) and their workflow actions."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from kpis.models import DriftAlert
from kpis.selectors.alerts import drift_alert_list
from kpis.services.alerts import drift_alert_acknowledge, drift_alert_resolve, drift_alert_update
from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantScopedViewSet


class DriftAlertSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.__str__", read_only=True)
    kpi_key = serializers.CharField(source="kpi.key", read_only=True)
    kpi_name = serializers.CharField(source="kpi.name", read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True, allow_null=True)

    class Meta:
        model = DriftAlert
        fields = [
            "id",
            "partner",
            "partner_name",
            "kpi",
            "kpi_key",
            "kpi_name",
            "detected_on",
            "kind",
            "direction",
            "size",
            "baseline_value",
            "recent_value",
            "target_value",
            "change_started_on",
            "explanation",
            "status",
            "owner",
            "owner_email",
            "notes",
            "created_at",
            "acknowledged_at",
            "resolved_at",
        ]
        read_only_fields = fields


class AlertActionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AlertUpdateSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="A member of this workspace (null clears the owner).",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DriftAlertFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DriftAlert.Status.choices)
    kind = django_filters.ChoiceFilter(choices=DriftAlert.Kind.choices)
    partner = django_filters.NumberFilter(field_name="partner_id")
    kpi = django_filters.NumberFilter(field_name="kpi_id")
    kpi_key = django_filters.CharFilter(field_name="kpi__key")
    owner = django_filters.NumberFilter(field_name="owner_id")
    detected_from = django_filters.DateFilter(field_name="detected_on", lookup_expr="gte")
    detected_to = django_filters.DateFilter(field_name="detected_on", lookup_expr="lte")

    class Meta:
        model = DriftAlert
        fields: list[str] = []


@extend_schema(tags=["kpis"])
class DriftAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Drift alerts raised by the nightly KPI-drift job; handle them with the actions."""

    model = DriftAlert
    serializer_class = DriftAlertSerializer
    read_perm = Perm.KPIS_VIEW
    write_perm = Perm.KPIS_CHANGE
    filterset_class = DriftAlertFilter
    ordering_fields = ["detected_on", "status"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return drift_alert_list()

    def _act(self, request: Request, service: Any) -> Response:
        alert = self.get_object()
        body = AlertActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = service(alert=alert, user=request.user, note=body.validated_data["note"])
        return Response(self.get_serializer(drift_alert_list().get(pk=alert.pk)).data)

    @extend_schema(
        request=AlertActionSerializer, responses={200: DriftAlertSerializer, 400: ErrorSerializer}
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Open → acknowledged (the owner defaults to the caller); an optional note is kept."""
        return self._act(request, drift_alert_acknowledge)

    @extend_schema(
        request=AlertActionSerializer, responses={200: DriftAlertSerializer, 400: ErrorSerializer}
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Open or acknowledged → resolved; an optional note is kept."""
        return self._act(request, drift_alert_resolve)

    @extend_schema(
        request=AlertUpdateSerializer, responses={200: DriftAlertSerializer, 400: ErrorSerializer}
    )
    @action(detail=True, methods=["post"], url_path="update")
    def update_alert(self, request: Request, pk: str | None = None) -> Response:
        """Assign the owner and/or append a note."""
        alert = self.get_object()
        body = AlertUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        owner = body.validated_data.get("owner", False)
        alert = drift_alert_update(
            alert=alert,
            user=cast(User, request.user),
            owner=owner,
            note=body.validated_data["note"],
        )
        return Response(self.get_serializer(drift_alert_list().get(pk=alert.pk)).data)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("kpis/alerts", DriftAlertViewSet, basename="kpi-alert")

urlpatterns = [path("", include(router.urls))]
