"""API: KPI definitions (plain CRUD on the scoped base; writes go through the services)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.routers import DefaultRouter

from kpis.models import KpiDefinition
from kpis.selectors.definitions import kpi_definition_list
from kpis.services.definitions import (
    EDITABLE_FIELDS,
    kpi_definition_create,
    kpi_definition_update,
)
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import TenantPrimaryKeyRelatedField, TenantScopedViewSet


class KpiDefinitionSerializer(serializers.ModelSerializer):
    numerator = TenantPrimaryKeyRelatedField(KpiDefinition, required=False, allow_null=True)
    denominator = TenantPrimaryKeyRelatedField(KpiDefinition, required=False, allow_null=True)

    class Meta:
        model = KpiDefinition
        fields = ["id", *EDITABLE_FIELDS, "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list[Any] = []  # the (tenant, key) uniqueness is checked by full_clean

    def create(self, validated_data: dict[str, Any]) -> KpiDefinition:
        return kpi_definition_create(**validated_data)

    def update(self, instance: KpiDefinition, validated_data: dict[str, Any]) -> KpiDefinition:
        return kpi_definition_update(definition=instance, data=validated_data)


class KpiDefinitionFilter(django_filters.FilterSet):
    key = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()
    partner_reported = django_filters.BooleanFilter()

    class Meta:
        model = KpiDefinition
        fields = ["key", "is_active", "partner_reported"]


@extend_schema(tags=["kpis"])
class KpiDefinitionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    """KPI definitions: what is measured, how a period aggregates, how it is judged."""

    model = KpiDefinition
    serializer_class = KpiDefinitionSerializer
    read_perm = Perm.KPIS_VIEW
    write_perm = Perm.KPIS_CHANGE
    filterset_class = KpiDefinitionFilter
    search_fields = ["key", "name"]
    ordering_fields = ["name", "key"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return kpi_definition_list()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save()


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("kpis/definitions", KpiDefinitionViewSet, basename="kpi-definition")

urlpatterns = [path("", include(router.urls))]
