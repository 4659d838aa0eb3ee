"""API of statements and their lifecycle, and of manual adjustments (under /api/v1/settlements/).

``statements/`` lists (filters: month, status, partner, currency) and retrieves statements with
their lines; ``approve/``, ``mark-paid/`` and ``dispute/`` move one along its lifecycle and
``approve-month/`` approves the drafts of a month (with the same filters). ``adjustments/`` is
CRUD of manual adjustments while they are not settled in an approved statement. Permissions are
those of the pages: reading ``settlements.view``, approving and paying ``settlements.approve``,
adjustments and disputes ``settlements.change``.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partners.models import Partner
from settlements.filters import AdjustmentFilter, StatementFilter, parse_month
from settlements.models import Statement, StatementAdjustment, StatementLine
from settlements.services import statements as services

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def _user(request: Request) -> User:
    return cast(User, request.user)


# --- examples -----------------------------------------------------------------------------------

STATEMENT_EXAMPLE: dict[str, Any] = {
    "id": 812,
    "partner": 42,
    "partner_name": "StreamWave",
    "month": "2026-10-01",
    "run": 77,
    "plan_version": 5,
    "plan_version_number": 2,
    "currency": "EUR",
    "direction": "payable",
    "status": "approved",
    "basis_total": "12500.0000",
    "partner_share": "3757.5000",
    "csp_share": "8742.5000",
    "content_hash": "3c1f9a0e5b7d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e",
    "approved_by": "finance@demo.test",
    "approved_at": "2026-11-05T10:12:00Z",
    "paid_by": None,
    "paid_at": None,
    "payment_date": None,
    "payment_reference": "",
    "lines": [
        {
            "id": 9001,
            "position": 1,
            "kind": "rule",
            "product_code": "*",
            "description": "all other products: 30% of 12500.00",
            "basis_amount": "12500.000000",
            "quantity": "4210.000000",
            "record_count": 4210,
            "amount": "3750.0000",
            "trace": {"rule": {"product": "*", "type": "percentage", "rate": "0.30"}},
        },
        {
            "id": 9002,
            "position": 2,
            "kind": "adjustment",
            "product_code": "",
            "description": "Adjustment: Dispute #14: missing video usage",
            "basis_amount": "0.000000",
            "quantity": "0.000000",
            "record_count": 0,
            "amount": "7.5000",
            "trace": {"adjustment_id": 31, "corrects_statement_id": 790, "dispute_id": 14},
        },
    ],
}
ADJUSTMENT_EXAMPLE: dict[str, Any] = {
    "id": 31,
    "partner": 42,
    "amount": "7.50",
    "currency": "EUR",
    "reason": "Dispute #14: missing video usage",
    "corrects_statement": 790,
    "corrects_line": 8870,
    "dispute": 14,
    "settled_in": 812,
    "created_by": "finance@demo.test",
    "updated_by": "finance@demo.test",
    "created_at": "2026-11-03T08:00:00Z",
    "updated_at": "2026-11-03T08:00:00Z",
}
NOT_FOUND = OpenApiExample(
    "Not found",
    summary="Unknown id, or another tenant's",
    value={"error": {"status": 404, "code": "not_found", "message": "Not found."}},
    response_only=True,
    status_codes=["404"],
)
REFUSED = OpenApiExample(
    "Refused transition",
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "The request has invalid fields.",
            "details": {
                "status": ["Statement #812 is paid: only a draft statement can be approved."]
            },
        }
    },
    response_only=True,
    status_codes=["400"],
)


# --- serializers --------------------------------------------------------------------------------


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "id",
            "position",
            "kind",
            "product_code",
            "description",
            "basis_amount",
            "quantity",
            "record_count",
            "amount",
            "trace",
        ]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer):
    lines = StatementLineSerializer(many=True, read_only=True)
    partner_name = serializers.CharField(source="partner.display_name", read_only=True)
    plan_version_number = serializers.IntegerField(source="plan_version.number", read_only=True)
    approved_by = serializers.EmailField(source="approved_by.email", read_only=True, default=None)
    paid_by = serializers.EmailField(source="paid_by.email", read_only=True, default=None)

    class Meta:
        model = Statement
        fields = [
            "id",
            "partner",
            "partner_name",
            "month",
            "run",
            "plan_version",
            "plan_version_number",
            "currency",
            "direction",
            "status",
            "basis_total",
            "partner_share",
            "csp_share",
            "content_hash",
            "approved_by",
            "approved_at",
            "paid_by",
            "paid_at",
            "payment_date",
            "payment_reference",
            "lines",
        ]
        read_only_fields = fields


class MarkPaidSerializer(serializers.Serializer):
    payment_date = serializers.DateField()
    payment_reference = serializers.CharField(max_length=100)


class DisputeSerializer(serializers.Serializer):
    comment = serializers.CharField()
    line = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of the disputed line of this statement."
    )


class DisputeCreatedSerializer(serializers.Serializer):
    dispute = serializers.IntegerField(help_text="The partners app's dispute id.")
    statement = StatementSerializer()


class ApproveMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    status = serializers.CharField(required=False, help_text="Ignored: only drafts are approved.")
    partner = serializers.IntegerField(required=False)
    currency = serializers.CharField(required=False, max_length=3)

    def validate_month(self, value: str) -> Any:
        from django.core.exceptions import ValidationError

        try:
            return parse_month(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class RefusedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class ApproveMonthResultSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField())
    refused = RefusedSerializer(many=True)


# --- statements ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        examples=[OpenApiExample("Statements", value=[STATEMENT_EXAMPLE], response_only=True)]
    ),
    retrieve=extend_schema(
        responses={200: StatementSerializer, 404: ErrorSerializer},
        examples=[
            OpenApiExample("Approved statement", value=STATEMENT_EXAMPLE, response_only=True),
            NOT_FOUND,
        ],
    ),
)
@extend_schema(tags=["settlements"])
class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    model = Statement
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_APPROVE
    action_perms = {
        "approve": Perm.SETTLEMENTS_APPROVE,
        "mark_paid": Perm.SETTLEMENTS_APPROVE,
        "approve_month": Perm.SETTLEMENTS_APPROVE,
        "dispute": Perm.SETTLEMENTS_CHANGE,
    }

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(
            "partner", "plan_version", "approved_by", "paid_by"
        ).prefetch_related("lines")

    def _fresh(self, pk: int) -> dict[str, Any]:
        return dict(StatementSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        request=None,
        responses={200: StatementSerializer, **ERRORS},
        examples=[REFUSED, NOT_FOUND],
        description="Approve a draft: its content is frozen and its content hash stored.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        statement = services.statement_approve(statement=self.get_object(), user=_user(request))
        return Response(self._fresh(statement.pk))

    @extend_schema(
        request=MarkPaidSerializer,
        responses={200: StatementSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Payment",
                value={"payment_date": "2026-11-20", "payment_reference": "SEPA-2026-11-0042"},
                request_only=True,
            ),
            REFUSED,
        ],
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request: Request, pk: str | None = None) -> Response:
        statement = self.get_object()
        body = MarkPaidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        statement = services.statement_mark_paid(
            statement=statement,
            user=_user(request),
            payment_date=body.validated_data["payment_date"],
            reference=body.validated_data["payment_reference"],
        )
        return Response(self._fresh(statement.pk))

    @extend_schema(
        request=DisputeSerializer,
        responses={201: DisputeCreatedSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Dispute a line",
                value={"comment": "Video usage of 30 Oct is missing.", "line": 9001},
                request_only=True,
            )
        ],
        description="Record a dispute on an approved or paid statement (a settlement dispute "
        "in the partners app); an approved statement becomes disputed.",
    )
    @action(detail=True, methods=["post"])
    def dispute(self, request: Request, pk: str | None = None) -> Response:
        statement = self.get_object()
        body = DisputeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        line_id = body.validated_data.get("line")
        line = (
            get_object_or_404(StatementLine.objects.filter(statement=statement), pk=line_id)
            if line_id
            else None
        )
        link = services.statement_dispute_open(
            statement=statement,
            user=_user(request),
            comment=body.validated_data["comment"],
            by_partner=False,
            line=line,
        )
        return Response(
            {"dispute": link.dispute_id, "statement": self._fresh(statement.pk)},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=ApproveMonthSerializer,
        responses={200: ApproveMonthResultSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Month", value={"month": "2026-10", "currency": "EUR"}, request_only=True
            ),
            OpenApiExample(
                "Result",
                value={
                    "approved": [812, 813],
                    "refused": [
                        {
                            "id": 815,
                            "reason": "Four-eyes approval: you last edited adjustment #31 of "
                            "statement #815; another finance user must approve it.",
                        }
                    ],
                },
                response_only=True,
            ),
        ],
        description="Approve every draft of the month matching the filters; each refused one "
        "is listed with its reason and the others are approved.",
    )
    @action(detail=False, methods=["post"], url_path="approve-month")
    def approve_month(self, request: Request) -> Response:
        body = ApproveMonthSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        statements = Statement.objects.filter(month=data["month"])
        if data.get("partner"):
            statements = statements.filter(partner_id=data["partner"])
        if data.get("currency"):
            statements = statements.filter(currency=data["currency"])
        result = services.statements_approve(statements=statements, user=_user(request))
        return Response(
            {
                "approved": [s.pk for s in result.approved],
                "refused": [{"id": s.pk, "reason": reason} for s, reason in result.refused],
            }
        )


# --- adjustments --------------------------------------------------------------------------------


class AdjustmentSerializer(serializers.ModelSerializer):
    partner = TenantPrimaryKeyRelatedField(model=Partner)
    corrects_statement = TenantPrimaryKeyRelatedField(
        model=Statement, required=False, allow_null=True
    )
    corrects_line = TenantPrimaryKeyRelatedField(
        model=StatementLine, required=False, allow_null=True
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)
    updated_by = serializers.EmailField(source="updated_by.email", read_only=True, default=None)

    class Meta:
        model = StatementAdjustment
        fields = [
            "id",
            "partner",
            "amount",
            "currency",
            "reason",
            "corrects_statement",
            "corrects_line",
            "dispute",
            "settled_in",
            "created_by",
            "updated_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "dispute", "settled_in", "created_at", "updated_at"]


class AdjustmentUpdateSerializer(AdjustmentSerializer):
    class Meta(AdjustmentSerializer.Meta):
        read_only_fields = [*AdjustmentSerializer.Meta.read_only_fields, "partner"]


ADJUSTMENT_RESPONSE = OpenApiExample(
    "Adjustment", value=ADJUSTMENT_EXAMPLE, response_only=True, status_codes=["200", "201"]
)


@extend_schema_view(
    list=extend_schema(
        examples=[OpenApiExample("Adjustments", value=[ADJUSTMENT_EXAMPLE], response_only=True)]
    ),
    retrieve=extend_schema(examples=[ADJUSTMENT_RESPONSE, NOT_FOUND]),
    create=extend_schema(
        responses={201: AdjustmentSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Correct a line",
                value={
                    "partner": 42,
                    "amount": "7.50",
                    "currency": "EUR",
                    "reason": "Missing video usage of 30 Oct",
                    "corrects_statement": 790,
                    "corrects_line": 8870,
                },
                request_only=True,
            ),
            ADJUSTMENT_RESPONSE,
        ],
    ),
    partial_update=extend_schema(
        request=AdjustmentUpdateSerializer,
        responses={200: AdjustmentSerializer, **ERRORS},
        examples=[ADJUSTMENT_RESPONSE],
    ),
    update=extend_schema(
        request=AdjustmentUpdateSerializer,
        responses={200: AdjustmentSerializer, **ERRORS},
        examples=[ADJUSTMENT_RESPONSE],
    ),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
@extend_schema(tags=["settlements"])
class AdjustmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """Manual adjustments: settled by the next run in the partner's next open statement;
    changed or deleted only while not settled in an approved statement."""

    model = StatementAdjustment
    serializer_class = AdjustmentSerializer
    filterset_class = AdjustmentFilter
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("created_by", "updated_by").order_by("-created_at", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = AdjustmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        adjustment = services.adjustment_create(user=_user(request), **body.validated_data)
        fresh = self.get_queryset().get(pk=adjustment.pk)
        return Response(AdjustmentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        adjustment = self.get_object()
        body = AdjustmentUpdateSerializer(
            adjustment, data=request.data, partial=kwargs.get("partial", False)
        )
        body.is_valid(raise_exception=True)
        services.adjustment_update(
            adjustment=adjustment, user=_user(request), **body.validated_data
        )
        fresh = self.get_queryset().get(pk=adjustment.pk)
        return Response(AdjustmentSerializer(fresh).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.adjustment_delete(adjustment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


router = DefaultRouter()
router.include_root_view = False  # its root view declares no permission: a 500 for members
router.register("settlements/statements", StatementViewSet, basename="settlement-statement")
router.register("settlements/adjustments", AdjustmentViewSet, basename="settlement-adjustment")
urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
