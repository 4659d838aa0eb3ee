"""API: a partner's scorecard for a period (``?partner=<id>&period=2026-10|2026-Q4``)."""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kpis.periods import Period, tenant_today
from kpis.selectors.scorecards import Scorecard, kpi_scorecard
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer
from partners.models import Partner

# A plain string in the schema: an enum named "status" collides with other apps' enums.
RAG_HELP = "Red/amber/green status: green, amber, red, or none (no actual or no target)."


class ScorecardLineSerializer(serializers.Serializer):
    kpi = serializers.CharField(source="kpi.key")
    name = serializers.CharField(source="kpi.name")
    unit = serializers.CharField(source="kpi.unit")
    direction = serializers.CharField(source="kpi.direction")
    actual = serializers.DecimalField(max_digits=30, decimal_places=6, allow_null=True)
    target = serializers.DecimalField(max_digits=30, decimal_places=6, allow_null=True)
    target_scope = serializers.CharField(allow_null=True)
    weight = serializers.DecimalField(max_digits=6, decimal_places=3)
    attainment = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, help_text="% of target (100 = on)."
    )
    status = serializers.CharField(help_text=RAG_HELP)
    previous = serializers.DecimalField(
        max_digits=30, decimal_places=6, allow_null=True, help_text="Previous period's actual."
    )
    trend = serializers.ChoiceField(choices=["better", "worse", "flat"], allow_null=True)
    change_pct = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    days = serializers.IntegerField(help_text="Days with values in the period.")


class ScorecardSerializer(serializers.Serializer):
    partner = serializers.IntegerField(source="partner.pk")
    partner_name = serializers.CharField(source="partner.display_name")
    period = serializers.CharField(source="period.label")
    start = serializers.DateField(source="period.start")
    end = serializers.SerializerMethodField()
    score = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, help_text="Weighted attainment %."
    )
    status = serializers.CharField(help_text=RAG_HELP)
    lines = ScorecardLineSerializer(many=True)

    def get_end(self, card: Scorecard) -> str:
        from datetime import timedelta

        return (card.period.end - timedelta(days=1)).isoformat()


class ScorecardView(APIView):
    """Each KPI's actual, target as judged then, attainment, RAG, trend, and the weighted score."""

    read_perm = Perm.KPIS_VIEW

    @extend_schema(
        tags=["kpis"],
        parameters=[
            OpenApiParameter("partner", OpenApiTypes.INT, required=True),
            OpenApiParameter(
                "period", OpenApiTypes.STR, description="YYYY-MM or YYYY-Qn; default this month"
            ),
        ],
        responses={200: ScorecardSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        raw_partner = request.query_params.get("partner", "")
        if not raw_partner.isdigit():
            raise serializers.ValidationError({"partner": "Give the partner id: ?partner=12."})
        partner = Partner.objects.filter(pk=int(raw_partner)).first()
        if partner is None:
            raise Http404
        raw_period = request.query_params.get("period")
        period = Period.parse(raw_period) if raw_period else Period.containing(tenant_today())
        return Response(ScorecardSerializer(kpi_scorecard(partner=partner, period=period)).data)


urlpatterns = [path("kpis/scorecards/", ScorecardView.as_view(), name="kpi-scorecard")]
