"""API: usage records and imports, products and FX rates (mounted under /api/v1/)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.urls import URLPattern, URLResolver, path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partners.models import Partner
from settlements.models import FxRate, Product, UsageImport, UsageRecord, UsageRejectedRow
from settlements.selectors import usage as selectors
from settlements.services import fx as fx_services
from settlements.services import products as product_services
from settlements.services import usage_import as import_services

# ---------------------------------------------------------------- serializers


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name", "unit", "is_active"]


class FxRateSerializer(serializers.ModelSerializer):
    rate = serializers.DecimalField(max_digits=24, decimal_places=10, coerce_to_string=True)

    class Meta:
        model = FxRate
        fields = ["id", "date", "base", "quote", "rate", "created_at"]
        read_only_fields = ["id", "created_at"]


class FxRateBulkSerializer(serializers.Serializer):
    rates = serializers.ListField(
        child=serializers.DictField(), max_length=fx_services.FX_MAX_ROWS, allow_empty=False
    )


class UsageImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageImport
        fields = [
            "id",
            "source",
            "original_name",
            "policy",
            "status",
            "rows_total",
            "rows_processed",
            "inserted",
            "duplicates",
            "rejected",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class UsageImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="UTF-8 CSV with a header row.")
    policy = serializers.ChoiceField(
        choices=UsageImport.Policy.choices, default=UsageImport.Policy.ALL_OR_NOTHING
    )


class UsageRejectedRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageRejectedRow
        fields = ["row_number", "column", "reason", "raw"]


class UsageRecordSerializer(serializers.ModelSerializer):
    partner = TenantPrimaryKeyRelatedField(model=Partner)

    class Meta:
        model = UsageRecord
        fields = [
            "id",
            "partner",
            "product_code",
            "event_time",
            "quantity",
            "gross_amount",
            "tax_amount",
            "currency",
            "external_id",
            "usage_import",
            "created_at",
        ]
        read_only_fields = fields


class UsageBulkSerializer(serializers.Serializer):
    policy = serializers.ChoiceField(
        choices=UsageImport.Policy.choices, default=UsageImport.Policy.ALL_OR_NOTHING
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        max_length=import_services.BULK_MAX_ROWS,
        allow_empty=False,
        help_text="Objects with partner, product_code, event_time, quantity, gross_amount, "
        "tax_amount, currency, external_id (amounts as decimal strings).",
    )


class RowErrorSerializer(serializers.Serializer):
    row_number = serializers.IntegerField()
    column = serializers.CharField()
    reason = serializers.CharField()


class UsageBulkResultSerializer(serializers.Serializer):
    usage_import = UsageImportSerializer()
    row_errors = RowErrorSerializer(many=True, help_text="Rejected rows (partial policy).")


# ---------------------------------------------------------------- filters


class UsageRecordFilter(django_filters.FilterSet):
    partner = django_filters.NumberFilter(field_name="partner_id")
    product_code = django_filters.CharFilter()
    currency = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    usage_import = django_filters.NumberFilter(field_name="usage_import_id")
    event_time_after = django_filters.IsoDateTimeFilter(field_name="event_time", lookup_expr="gte")
    event_time_before = django_filters.IsoDateTimeFilter(field_name="event_time", lookup_expr="lt")

    class Meta:
        model = UsageRecord
        fields: list[str] = []


class FxRateFilter(django_filters.FilterSet):
    date = django_filters.DateFilter()
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    base = django_filters.CharFilter()
    quote = django_filters.CharFilter()

    class Meta:
        model = FxRate
        fields: list[str] = []


class UsageImportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=UsageImport.Status.choices)

    class Meta:
        model = UsageImport
        fields: list[str] = []


# ---------------------------------------------------------------- views


class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    """Products whose usage is settled (deactivate instead of deleting)."""

    model = Product
    serializer_class = ProductSerializer
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.order_by("code")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = product_services.product_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        product = serializer.instance
        assert isinstance(product, Product)
        serializer.instance = product_services.product_update(
            product=product, **serializer.validated_data
        )


class FxRateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    TenantScopedViewSet,
):
    """The tenant's FX rates per day: one unit of ``base`` costs ``rate`` units of ``quote``."""

    model = FxRate
    serializer_class = FxRateSerializer
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE
    filter_backends = [DjangoFilterBackend]
    filterset_class = FxRateFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.order_by("-date", "base", "quote")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rate = fx_services.fx_rate_create(
            date=data["date"], base=data["base"], quote=data["quote"], rate=data["rate"]
        )
        return Response(self.get_serializer(rate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=FxRateBulkSerializer,
        responses={200: inline_serializer("FxBulkResult", {"saved": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Insert or replace many rates (JSON ``rates`` list); all or nothing."""
        serializer = FxRateBulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = fx_services.fx_rates_upsert(rows=serializer.validated_data["rates"])
        return Response({"saved": saved})

    @extend_schema(
        request={"multipart/form-data": UsageImportCreateSerializer},
        responses={200: inline_serializer("FxCsvResult", {"saved": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["post"], url_path="csv", parser_classes=[MultiPartParser])
    def upload_csv(self, request: Request) -> Response:
        """Load rates from a CSV file with the header ``date,base,quote,rate``."""
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": "A CSV file is required."})
        saved = fx_services.fx_rates_import_csv(stream=upload.file)
        return Response({"saved": saved})


class UsageImportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """CSV imports of usage: upload (202, processed by a worker), progress, rejected rows."""

    model = UsageImport
    serializer_class = UsageImportSerializer
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE
    filter_backends = [DjangoFilterBackend]
    filterset_class = UsageImportFilter
    parser_classes = [MultiPartParser, FormParser]

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.order_by("-created_at", "-id")

    @extend_schema(
        request={"multipart/form-data": UsageImportCreateSerializer},
        responses={202: UsageImportSerializer, 400: ErrorSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = UsageImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        usage_import = import_services.usage_import_create(
            file=serializer.validated_data["file"],
            policy=serializer.validated_data["policy"],
            created_by=request.user,
        )
        return Response(UsageImportSerializer(usage_import).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: UsageRejectedRowSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="rejected-rows")
    def rejected_rows(self, request: Request, pk: str | None = None) -> Response:
        """The rows that were refused, each with its row number, column and reason."""
        rows = selectors.usage_rejected_row_list(usage_import=self.get_object())
        page = self.paginate_queryset(rows)
        data = UsageRejectedRowSerializer(page if page is not None else rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


class UsageRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Usage records, newest first, filtered by partner, product, currency, time or import."""

    model = UsageRecord
    serializer_class = UsageRecordSerializer
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE
    filter_backends = [DjangoFilterBackend]
    filterset_class = UsageRecordFilter

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.order_by("-event_time", "-id")


class UsageBulkView(APIView):
    """Ingest up to 10,000 usage rows synchronously (same validation as CSV imports)."""

    read_perm = None
    write_perm = Perm.SETTLEMENTS_CHANGE
    parser_classes = [JSONParser]

    @extend_schema(
        request=UsageBulkSerializer,
        responses={
            201: UsageBulkResultSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Rejected (all or nothing)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = UsageBulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        usage_import, errors = import_services.usage_bulk_ingest(
            rows=serializer.validated_data["rows"],
            policy=serializer.validated_data["policy"],
            created_by=request.user,
        )
        body = {
            "usage_import": UsageImportSerializer(usage_import).data,
            "row_errors": [
                {"row_number": e.row_number, "column": e.column, "reason": e.reason} for e in errors
            ],
        }
        if usage_import.status == UsageImport.Status.REJECTED:
            details: dict[str, list[str]] = {}
            for e in errors:
                details.setdefault(f"rows[{e.row_number}].{e.column}", []).append(e.reason)
            return Response(
                {
                    "error": {
                        "status": 400,
                        "code": "rejected",
                        "message": usage_import.error,
                        "details": details,
                    }
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body, status=status.HTTP_201_CREATED)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("settlements/products", ProductViewSet, basename="settlements-product")
router.register("settlements/fx-rates", FxRateViewSet, basename="settlements-fxrate")
router.register(
    "settlements/usage/imports", UsageImportViewSet, basename="settlements-usage-import"
)
router.register("settlements/usage", UsageRecordViewSet, basename="settlements-usage")

urlpatterns: list[URLPattern | URLResolver] = [
    path("settlements/usage/bulk/", UsageBulkView.as_view(), name="settlements-usage-bulk"),
    *router.urls,
]
