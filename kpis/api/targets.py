"""API: KPI targets. Never edited in place: POST sets a new one (closing the current row)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from kpis.models import KpiDefinition, KpiTarget, PeriodKind
from kpis.selectors.definitions import kpi_target_list
from kpis.services.targets import kpi_target_set
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partners.models import Agreement, Partner, PartnerTier, PartnerType


class KpiTargetSerializer(serializers.ModelSerializer):
    kpi = TenantPrimaryKeyRelatedField(KpiDefinition)
    partner = TenantPrimaryKeyRelatedField(Partner, required=False, allow_null=True)
    partner_type = TenantPrimaryKeyRelatedField(PartnerType, required=False, allow_null=True)
    tier = TenantPrimaryKeyRelatedField(PartnerTier, required=False, allow_null=True)
    agreement = TenantPrimaryKeyRelatedField(Agreement, required=False, allow_null=True)
    kpi_key = serializers.CharField(source="kpi.key", read_only=True)
    scope = serializers.SerializerMethodField()

    class Meta:
        model = KpiTarget
        fields = [
            "id",
            "kpi",
            "kpi_key",
            "scope",
            "partner",
            "partner_type",
            "tier",
            "agreement",
            "period_kind",
            "value",
            "weight",
            "effective_from",
            "effective_to",
            "created_at",
        ]
        read_only_fields = ["id", "effective_to", "created_at"]

    def get_scope(self, target: KpiTarget) -> str:
        if target.partner_id:
            return "partner"
        if target.tier_id:
            return "tier"
        if target.partner_type_id:
            return "type"
        return "default"


class KpiTargetFilter(django_filters.FilterSet):
    kpi = django_filters.NumberFilter(field_name="kpi_id")
    kpi_key = django_filters.CharFilter(field_name="kpi__key")
    partner = django_filters.NumberFilter(field_name="partner_id")
    partner_type = django_filters.NumberFilter(field_name="partner_type_id")
    tier = django_filters.NumberFilter(field_name="tier_id")
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)
    effective_on = django_filters.DateFilter(method="filter_effective_on", label="In force on")

    class Meta:
        model = KpiTarget
        fields = ["kpi", "kpi_key", "partner", "partner_type", "tier", "period_kind"]

    def filter_effective_on(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(effective_from__lte=value).exclude(effective_to__lte=value)


@extend_schema(tags=["kpis"])
class KpiTargetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """KPI targets by partner, tier, type or default, with their effective dates (history)."""

    model = KpiTarget
    serializer_class = KpiTargetSerializer
    read_perm = Perm.KPIS_VIEW
    write_perm = Perm.KPIS_CHANGE
    filterset_class = KpiTargetFilter
    ordering_fields = ["effective_from", "value"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return kpi_target_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Set a target from ``effective_from`` on: the row in force is closed, not changed."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = kpi_target_set(**serializer.validated_data, user=request.user)  # type: ignore[arg-type]
        return Response(self.get_serializer(target).data, status=status.HTTP_201_CREATED)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("kpis/targets", KpiTargetViewSet, basename="kpi-target")

urlpatterns = [path("", include(router.urls))]
