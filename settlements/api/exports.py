"""API of finance exports (/api/v1/settlements/exports/) and the journal's GL accounts.

An export is created (202: a task builds the file), polled (status, progress) and downloaded
through ``download/``, which streams the stored file after the tenant scope found the export:
another tenant's export id is a 404, files are never served from MEDIA_URL.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import URLPattern, URLResolver, path
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from kpis.periods import Period
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantScopedViewSet
from settlements.exports.filters import DIRECTIONS
from settlements.exports.responses import export_file_response
from settlements.models import JournalSettings, SettlementExport, Statement
from settlements.services import exports as services

TAG = "settlements"


class ExportFiltersSerializer(serializers.Serializer):
    """Which of the month's statements: all when empty."""

    status = serializers.ListField(
        child=serializers.ChoiceField(choices=Statement.Status.choices), required=False
    )
    partner = serializers.IntegerField(required=False, min_value=1, help_text="Partner id")
    currency = serializers.CharField(required=False, max_length=3, help_text="ISO 4217, e.g. EUR")
    direction = serializers.ChoiceField(choices=DIRECTIONS, required=False)


class SettlementExportSerializer(serializers.ModelSerializer):
    filters = ExportFiltersSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SettlementExport
        fields = [
            "id",
            "kind",
            "file_format",
            "month",
            "filters",
            "partner",
            "status",
            "progress",
            "statements_total",
            "statements_done",
            "rows_written",
            "file_name",
            "size",
            "error",
            "download_url",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_download_url(self, export: SettlementExport) -> str | None:
        if not export.is_ready:
            return None
        return f"/api/v1/settlements/exports/{export.pk}/download/"


class ExportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SettlementExport.Kind.choices)
    file_format = serializers.ChoiceField(
        choices=SettlementExport.Format.choices,
        help_text="csv or xlsx for statements, lines and journal; zip for pdf_zip.",
    )
    month = serializers.CharField(help_text="YYYY-MM")
    filters = ExportFiltersSerializer(required=False)

    def validate_month(self, value: str) -> Any:
        period = Period.parse(value)
        if period.kind != "month":
            raise serializers.ValidationError("Use a month: YYYY-MM.")
        return period.start


class ExportFilter(filters.FilterSet):
    month = filters.DateFilter()
    kind = filters.ChoiceFilter(choices=SettlementExport.Kind.choices)
    status = filters.ChoiceFilter(choices=SettlementExport.Status.choices)

    class Meta:
        model = SettlementExport
        fields: list[str] = []


@extend_schema(tags=[TAG])
class SettlementExportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    """Exports of a month's statements; anyone who may see statements may export them."""

    model = SettlementExport
    serializer_class = SettlementExportSerializer
    filterset_class = ExportFilter
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_VIEW

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.order_by("-created_at", "-id")

    @extend_schema(
        request=ExportCreateSerializer,
        responses={202: SettlementExportSerializer, 400: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        export = services.settlement_export_create(
            kind=data["kind"],
            file_format=data["file_format"],
            month=data["month"],
            filters=data.get("filters") or {},
            user=request.user,  # type: ignore[arg-type]
        )
        return Response(SettlementExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download the export's file",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(ErrorSerializer, description="Unknown, or no file yet"),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        return export_file_response(self.get_object())


class JournalSettingsSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null until the settings are first saved."
    )

    class Meta:
        model = JournalSettings
        fields = [*services.JOURNAL_ACCOUNT_FIELDS, "updated_at"]
        read_only_fields = ["updated_at"]


@extend_schema(tags=[TAG])
class JournalSettingsView(APIView):
    """The GL accounts the journal export books on (finance and tenant admins)."""

    read_perm = Perm.SETTLEMENTS_CHANGE
    write_perm = Perm.SETTLEMENTS_CHANGE

    @extend_schema(responses={200: JournalSettingsSerializer})
    def get(self, request: Request) -> Response:
        return Response(JournalSettingsSerializer(services.journal_settings_get()).data)

    @extend_schema(
        request=JournalSettingsSerializer,
        responses={200: JournalSettingsSerializer, 400: ErrorSerializer},
    )
    def patch(self, request: Request) -> Response:
        body = JournalSettingsSerializer(
            services.journal_settings_get(), data=request.data, partial=True
        )
        body.is_valid(raise_exception=True)
        journal = services.journal_settings_update(
            user=request.user,  # type: ignore[arg-type]
            **body.validated_data,
        )
        return Response(JournalSettingsSerializer(journal).data)

    @extend_schema(
        request=JournalSettingsSerializer,
        responses={200: JournalSettingsSerializer, 400: ErrorSerializer},
    )
    def put(self, request: Request) -> Response:
        return self.patch(request)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("settlements/exports", SettlementExportViewSet, basename="settlements-export")

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "settlements/journal-settings/",
        JournalSettingsView.as_view(),
        name="settlements-journal-settings",
    ),
    *router.urls,
]
