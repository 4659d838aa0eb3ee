"""API: daily KPI measurements: a filtered list and the all-or-nothing bulk ingest."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import include, path
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from kpis.models import KpiMeasurement
from kpis.services.measurements import MAX_ROWS, MeasurementRowsInvalid, kpi_measurements_ingest
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantScopedViewSet


class KpiMeasurementSerializer(serializers.ModelSerializer):
    kpi_key = serializers.CharField(source="kpi.key", read_only=True)

    class Meta:
        model = KpiMeasurement
        fields = ["id", "partner", "kpi", "kpi_key", "date", "value", "origin", "submitted_at"]
        read_only_fields = fields


class KpiMeasurementFilter(django_filters.FilterSet):
    partner = django_filters.NumberFilter(field_name="partner_id")
    kpi = django_filters.NumberFilter(field_name="kpi_id")
    kpi_key = django_filters.CharFilter(field_name="kpi__key")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    origin = django_filters.ChoiceFilter(choices=KpiMeasurement.Origin.choices)

    class Meta:
        model = KpiMeasurement
        fields = ["partner", "kpi", "kpi_key", "date_from", "date_to", "origin"]


@extend_schema(tags=["kpis"])
class KpiMeasurementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Daily KPI values; filter by partner, KPI (id or key), date range and origin."""

    model = KpiMeasurement
    serializer_class = KpiMeasurementSerializer
    read_perm = Perm.KPIS_VIEW
    filterset_class = KpiMeasurementFilter
    ordering_fields = ["date", "value"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("kpi").order_by("-date", "kpi_id", "partner_id")


class MeasurementRowSerializer(serializers.Serializer):
    partner = serializers.CharField(help_text="Partner id, or its legal name (case-insensitive).")
    kpi = serializers.CharField(help_text="KPI key, e.g. revenue.")
    date = serializers.CharField(help_text="YYYY-MM-DD, from 2000-01-01 to today.")
    value = serializers.CharField(help_text="A decimal number (string or JSON number).")


class BulkRequestSerializer(serializers.Serializer):
    rows = serializers.ListField(child=serializers.DictField(), max_length=MAX_ROWS)

    def to_representation(self, instance: Any) -> Any:  # pragma: no cover - schema only
        return instance


class BulkResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    replaced = serializers.IntegerField()


@extend_schema(tags=["kpis"])
class MeasurementBulkView(APIView):
    """Up to 10,000 daily values, all or nothing.

    Every bad row is listed (row number from 1, column, message) and nothing is written. A
    value already stored for the same partner, KPI and date is replaced; the audit trail
    keeps the old value.
    """

    read_perm = None
    write_perm = Perm.KPIS_CHANGE

    @extend_schema(
        request=inline_serializer(
            "MeasurementBulkRequest", {"rows": MeasurementRowSerializer(many=True)}
        ),
        responses={200: BulkResultSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Two values",
                request_only=True,
                value={
                    "rows": [
                        {
                            "partner": "12",
                            "kpi": "revenue",
                            "date": "2026-10-01",
                            "value": "1520.50",
                        },
                        {
                            "partner": "Acme Content Ltd",
                            "kpi": "complaints",
                            "date": "2026-10-01",
                            "value": 3,
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = BulkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = kpi_measurements_ingest(
                rows=serializer.validated_data["rows"],
                origin=KpiMeasurement.Origin.API,
                user=request.user,  # type: ignore[arg-type]  # authenticated by the permission
            )
        except MeasurementRowsInvalid as exc:
            return Response(
                {
                    "error": {
                        "status": 400,
                        "code": "invalid_rows",
                        "message": f"{exc.total} error(s) in the rows; nothing was written.",
                        "details": {"rows": exc.rows, "error_count": exc.total},
                    }
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {"rows": result.rows, "created": result.created, "replaced": result.replaced}
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("kpis/measurements", KpiMeasurementViewSet, basename="kpi-measurement")

urlpatterns = [
    path("kpis/measurements/bulk/", MeasurementBulkView.as_view(), name="kpi-measurement-bulk"),
    path("", include(router.urls)),
]
