"""API: the partner manager's dashboard and the quiet partners list, the twins of the dashboard
cards and of /partners/quiet/ (mounted under /api/v1/ by partners/api/urls.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantScopedViewSet
from partners.api.exporting import export_response, export_schema
from partners.models import Partner
from partners.selectors.dashboard import dashboard_data
from partners.selectors.relationship import (
    QUIET_EXPORT_COLUMNS,
    QuietPartnerFilter,
    days_quiet,
    partners_quiet,
    quiet_after_days,
    quiet_export_rows,
)


class QuietPartnerSerializer(serializers.ModelSerializer):
    partner_type = serializers.CharField(source="partner_type.name", read_only=True)
    account_owner = serializers.EmailField(
        source="account_owner.email", read_only=True, default=None
    )
    quiet_since = serializers.DateField(
        read_only=True, help_text="The last contact, or the last status change if never contacted."
    )
    days_quiet = serializers.SerializerMethodField()

    class Meta:
        model = Partner
        fields = [
            "id",
            "legal_name",
            "trading_name",
            "partner_type",
            "account_owner",
            "last_contact_on",
            "quiet_since",
            "days_quiet",
        ]
        read_only_fields = fields

    def get_days_quiet(self, partner: Partner) -> int | None:
        return days_quiet(partner, self.context.get("today") or timezone.localdate())


@extend_schema_view(
    list=extend_schema(
        summary="Quiet partners",
        description=(
            "Active partners with no interaction for longer than the tenant's threshold "
            "(`quiet_after_days`, default 14), longest quiet first."
        ),
        examples=[
            OpenApiExample(
                "Quiet partners",
                value={
                    "id": 31,
                    "legal_name": "Harbour Fibre Ltd",
                    "trading_name": "Harbour Fibre",
                    "partner_type": "Infrastructure provider",
                    "account_owner": "manager@demo.test",
                    "last_contact_on": "2026-10-02",
                    "quiet_since": "2026-10-02",
                    "days_quiet": 52,
                },
                response_only=True,
            )
        ],
    )
)
class QuietPartnerViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """Partners that have gone quiet, filterable by account owner and exportable."""

    model = Partner
    serializer_class = QuietPartnerSerializer
    read_perm = Perm.PARTNERS_VIEW
    filterset_class = QuietPartnerFilter
    ordering_fields: list[str] = []
    search_fields = ["legal_name", "trading_name"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return partners_quiet(partners=queryset)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @export_schema(
        summary="Export quiet partners",
        description="The filtered quiet partners as CSV or XLSX.",
        example_csv=(
            "ID,Legal name,Trading name,Type,Account owner,Last contact,Quiet since,Days quiet\r\n"
            "31,Harbour Fibre Ltd,Harbour Fibre,Infrastructure provider,manager@demo.test,"
            "2026-10-02,2026-10-02,52\r\n"
        ),
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> Any:
        return export_response(
            request,
            rows=quiet_export_rows(self.filter_queryset(self.get_queryset())),
            columns=QUIET_EXPORT_COLUMNS,
            name="quiet-partners",
        )


# --- the dashboard ----------------------------------------------------------------------------


class StatusCountSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field is named "label"
    count = serializers.IntegerField()


class TypeCountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class FunnelRowSerializer(StatusCountSerializer):
    median_days = serializers.FloatField(
        allow_null=True, help_text="Median days partners spent in this stage (finished stays)."
    )
    finished = serializers.IntegerField(help_text="Finished stays the median is taken over.")


class DueAgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    title = serializers.CharField()
    partner = serializers.CharField(source="partner.display_name")
    status = serializers.CharField()
    end_date = serializers.DateField(allow_null=True)
    next_review_date = serializers.DateField(allow_null=True)


class OpenDisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    partner = serializers.CharField(source="partner.display_name")
    status = serializers.CharField()
    owner = serializers.EmailField(source="owner.email", default=None)
    opened_at = serializers.DateTimeField()


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)


class DashboardQuietSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="display_name")
    account_owner = serializers.EmailField(source="account_owner.email", default=None)
    quiet_since = serializers.DateField()


class PartnerDashboardSerializer(serializers.Serializer):
    today = serializers.DateField()
    due_days = serializers.IntegerField(help_text="Window of the agreements due list (days).")
    quiet_after_days = serializers.IntegerField()
    partners_total = serializers.IntegerField()
    active_total = serializers.IntegerField()
    by_status = StatusCountSerializer(many=True)
    by_type = TypeCountSerializer(many=True)
    funnel = FunnelRowSerializer(many=True)
    agreements_due = DueAgreementSerializer(many=True)
    agreements_due_total = serializers.IntegerField()
    quiet_partners = DashboardQuietSerializer(many=True)
    quiet_total = serializers.IntegerField()
    open_disputes = OpenDisputeSerializer(many=True)
    open_disputes_total = serializers.IntegerField()
    tasks = TaskSerializer(many=True, help_text="The caller's open tasks.")
    tasks_total = serializers.IntegerField()


class PartnerDashboardView(APIView):
    """The partner manager's dashboard cards: the same numbers as the home page."""

    read_perm = Perm.PARTNERS_VIEW

    @extend_schema(
        summary="Partner dashboard",
        description=(
            "Partners by status and type, the onboarding funnel with median days per stage, "
            "agreements due for renewal or review, quiet partners, open disputes and the "
            "caller's open tasks. The lists hold the first 8 rows; the `*_total` fields count "
            "all of them."
        ),
        responses={200: PartnerDashboardSerializer, 403: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Dashboard",
                value={
                    "today": "2026-11-23",
                    "due_days": 30,
                    "quiet_after_days": 14,
                    "partners_total": 40,
                    "active_total": 18,
                    "by_status": [{"status": "active", "label": "Active", "count": 18}],
                    "by_type": [{"id": 3, "name": "Content provider", "count": 9}],
                    "funnel": [
                        {
                            "status": "vetting",
                            "label": "Vetting",
                            "count": 3,
                            "median_days": 6.0,
                            "finished": 28,
                        }
                    ],
                    "agreements_due": [
                        {
                            "id": 14,
                            "reference": "AG-2026-014",
                            "title": "Reseller agreement",
                            "partner": "Nordic Resellers",
                            "status": "active",
                            "end_date": "2027-12-31",
                            "next_review_date": "2026-12-01",
                        }
                    ],
                    "agreements_due_total": 1,
                    "quiet_partners": [
                        {
                            "id": 31,
                            "name": "Harbour Fibre",
                            "account_owner": "manager@demo.test",
                            "quiet_since": "2026-10-02",
                        }
                    ],
                    "quiet_total": 1,
                    "open_disputes": [
                        {
                            "id": 7,
                            "title": "October statement short",
                            "partner": "Nordic Resellers",
                            "status": "investigating",
                            "owner": "manager@demo.test",
                            "opened_at": "2026-11-02T09:14:00Z",
                        }
                    ],
                    "open_disputes_total": 1,
                    "tasks": [
                        {
                            "id": 120,
                            "kind": "partner_quiet",
                            "title": "Harbour Fibre has gone quiet",
                            "url": "/partners/31/",
                            "due_on": "2026-11-23",
                        }
                    ],
                    "tasks_total": 1,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]  # HasRolePermission: signed in
        data = dashboard_data(user=user)
        data["quiet_after_days"] = quiet_after_days()
        return Response(PartnerDashboardSerializer(data).data)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("quiet-partners", QuietPartnerViewSet, basename="quiet-partner")

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard/partners/", PartnerDashboardView.as_view(), name="partner-dashboard"),
    *router.urls,
]
