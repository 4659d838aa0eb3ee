"""API: a month's reconciliation (``GET /api/v1/settlements/reconciliation/?month=YYYY-MM``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer
from settlements.selectors.reconciliation import settlement_reconciliation
from settlements.views.finance import reconciliation_month


def amount(help_text: str = "") -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=30, decimal_places=6, help_text=help_text or None)


class DecimalMapField(serializers.DictField):
    child = amount()


class UsageCurrencySerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="Record currency (ISO 4217).")
    record_count = serializers.IntegerField()
    quantity = amount()
    gross = amount()
    tax = amount()
    basis = amount("Gross, or net for partners whose plan settles on net.")
    settled = amount("Settled by the month's statements.")
    unsettled = DecimalMapField(help_text="Reported unsettled, by reason.")
    late_settled = amount("Arrived after the month was frozen; settled by a later month.")
    late_pending = amount("Arrived after the month was frozen; awaiting the next open month.")
    not_run = amount("Arrived after the latest run.")
    difference = amount("Must be zero.")
    converted = DecimalMapField(help_text="Basis per plan currency, at the run's day rates.")
    not_converted = DecimalMapField(help_text="Basis without a rate, per plan currency.")


class SettlementCurrencySerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="Settlement (plan) currency.")
    statements = serializers.IntegerField()
    drafts = serializers.IntegerField()
    basis_total = amount()
    partner_share_payable = amount()
    partner_share_receivable = amount()
    csp_share = amount()
    adjustments = amount()
    late_usage_basis = amount()
    late_usage_amount = amount()
    basis_difference = amount("Basis totals minus settled basis rounded once per statement: zero.")
    share_difference = amount("Basis totals minus partner and CSP shares: zero.")


class UnsettledGroupSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text="unknown_partner, no_active_agreement, no_plan, no_rule_for_product "
        "or missing_fx_rate."
    )
    reason_label = serializers.CharField()
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()
    product_code = serializers.CharField()
    currency = serializers.CharField(help_text="Record currency.")
    record_count = serializers.IntegerField()
    basis = amount()
    quantity = amount()
    late = serializers.BooleanField(help_text="Late usage of an earlier frozen month.")


class ReconciliationSerializer(serializers.Serializer):
    month = serializers.DateField()
    has_run = serializers.BooleanField(help_text="False: no run of the month has finished.")
    run = serializers.IntegerField(source="run.pk", allow_null=True, default=None)
    run_in_progress = serializers.BooleanField(help_text="A run of the month is not done yet.")
    is_balanced = serializers.BooleanField()
    usage = UsageCurrencySerializer(many=True)
    statements = SettlementCurrencySerializer(many=True)
    unsettled = UnsettledGroupSerializer(many=True)


EXAMPLE = {
    "month": "2026-10-01",
    "has_run": True,
    "run": 42,
    "run_in_progress": False,
    "is_balanced": True,
    "usage": [
        {
            "currency": "USD",
            "record_count": 3,
            "quantity": "3.000000",
            "gross": "22.000000",
            "tax": "0.000000",
            "basis": "22.000000",
            "settled": "10.000000",
            "unsettled": {"missing_fx_rate": "7.000000", "no_rule_for_product": "5.000000"},
            "late_settled": "0.000000",
            "late_pending": "0.000000",
            "not_run": "0.000000",
            "difference": "0.000000",
            "converted": {"EUR": "12.000000"},
            "not_converted": {"EUR": "7.000000"},
        }
    ],
    "statements": [
        {
            "currency": "EUR",
            "statements": 2,
            "drafts": 2,
            "basis_total": "148.000000",
            "partner_share_payable": "52.400000",
            "partner_share_receivable": "0.000000",
            "csp_share": "95.600000",
            "adjustments": "0.000000",
            "late_usage_basis": "0.000000",
            "late_usage_amount": "0.000000",
            "basis_difference": "0.000000",
            "share_difference": "0.000000",
        }
    ],
    "unsettled": [
        {
            "reason": "missing_fx_rate",
            "reason_label": "Missing FX rate",
            "partner_id": 12,
            "partner_name": "Acme Content",
            "product_code": "music",
            "currency": "USD",
            "record_count": 1,
            "basis": "7.000000",
            "quantity": "1.000000",
            "late": False,
        }
    ],
}


class ReconciliationView(APIView):
    """The month's usage against settled, unsettled (by reason), late and not-yet-run usage."""

    read_perm = Perm.SETTLEMENTS_VIEW

    @extend_schema(
        tags=["settlements"],
        summary="A month's reconciliation",
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; default: last month")
        ],
        responses={200: ReconciliationSerializer, 400: ErrorSerializer},
        examples=[OpenApiExample("October 2026", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        try:
            month = reconciliation_month(request.query_params.get("month"))
        except ValidationError as exc:
            raise serializers.ValidationError({"month": exc.messages}) from None
        rec = settlement_reconciliation(month=month)
        return Response(ReconciliationSerializer(rec).data)


urlpatterns = [
    path(
        "settlements/reconciliation/",
        ReconciliationView.as_view(),
        name="settlement-reconciliation",
    )
]
