"""API of revenue-share plans and settlement runs (under /api/v1/settlements/).

Plans are created from their JSON content (version 1); ``versions/`` appends a version; runs are
started for a month and report their progress. Statements: ``settlements.api.statements``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from kpis.periods import Period
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partners.models import Agreement
from settlements.models import (
    PlanAssignment,
    RevenueSharePlan,
    RevenueSharePlanVersion,
    SettlementRun,
)
from settlements.services import plans as plan_services
from settlements.services import runs as run_services


class PlanVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RevenueSharePlanVersion
        fields = ["id", "number", "currency", "content", "created_at"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    versions = PlanVersionSerializer(many=True, read_only=True)

    class Meta:
        model = RevenueSharePlan
        fields = ["id", "name", "created_at", "versions"]
        read_only_fields = fields


class PlanContentSerializer(serializers.Serializer):
    """The plan's content, validated by ``settlements.plans`` (amounts as decimal strings)."""

    content = serializers.JSONField()


class PlanAssignmentSerializer(serializers.ModelSerializer):
    agreement = TenantPrimaryKeyRelatedField(model=Agreement)

    class Meta:
        model = PlanAssignment
        fields = ["id", "agreement", "plan", "effective_from", "effective_to"]
        read_only_fields = ["id", "plan"]


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = RevenueSharePlan
    serializer_class = PlanSerializer
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related("versions").order_by("name")

    @extend_schema(request=PlanContentSerializer, responses={201: PlanSerializer})
    def create(self, request: Request) -> Response:
        body = PlanContentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = plan_services.plan_create(
            content=body.validated_data["content"],
            user=request.user,  # type: ignore[arg-type]
        )
        return Response(
            PlanSerializer(self.get_queryset().get(pk=plan.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["POST"], request=PlanContentSerializer, responses={201: PlanVersionSerializer}
    )
    @extend_schema(methods=["GET"], responses={200: PlanVersionSerializer(many=True)})
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        if request.method == "GET":
            return Response(PlanVersionSerializer(plan.versions.all(), many=True).data)
        body = PlanContentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = plan_services.plan_version_create(
            plan=plan,
            content=body.validated_data["content"],
            user=request.user,  # type: ignore[arg-type]
        )
        return Response(PlanVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanAssignmentSerializer, responses={201: PlanAssignmentSerializer})
    @action(detail=True, methods=["post"])
    def assignments(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        body = PlanAssignmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = plan_services.plan_assignment_create(plan=plan, **body.validated_data)
        return Response(PlanAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


class RunSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = SettlementRun
        fields = [
            "id",
            "month",
            "status",
            "is_close",
            "chunks_total",
            "chunks_done",
            "progress_percent",
            "fx_rates",
            "unsettled",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")

    def validate_month(self, value: str) -> Any:
        period = Period.parse(value)
        if period.kind != "month":
            raise serializers.ValidationError("Use a month: YYYY-MM.")
        return period.start


class RunFilter(filters.FilterSet):
    month = filters.DateFilter()
    status = filters.CharFilter()

    class Meta:
        model = SettlementRun
        fields: list[str] = []


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = SettlementRun
    serializer_class = RunSerializer
    filterset_class = RunFilter
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE

    @extend_schema(request=RunStartSerializer, responses={202: RunSerializer})
    def create(self, request: Request) -> Response:
        body = RunStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_services.settlement_run_start(
            month=body.validated_data["month"],
            user=request.user,  # type: ignore[arg-type]
        )
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        run = run_services.settlement_run_resume(run=self.get_object())
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


router = DefaultRouter()
router.include_root_view = False  # its root view declares no permission: a 500 for members
router.register("settlements/plans", PlanViewSet, basename="settlement-plan")
router.register("settlements/runs", RunViewSet, basename="settlement-run")
urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
