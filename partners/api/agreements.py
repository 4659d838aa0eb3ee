"""API: agreements (mounted under /api/v1/ by partners/api/urls.py).

Drafts are created, edited and deleted as plain resources; everything after draft goes through
the workflow actions (amend, transition, review-complete, sign), each a service call.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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
from partners.api.exporting import export_response, export_schema
from partners.models import Agreement, AgreementStatus, AgreementType, Document, Partner
from partners.models.agreements import AgreementReview, ReviewCadence
from partners.selectors.agreements import (
    AGREEMENT_EXPORT_COLUMNS,
    AgreementFilter,
    agreement_detail,
    agreement_export_rows,
    agreement_list,
    agreement_version_history,
)
from partners.services import agreements as services

TERM_FIELDS = list(services.TERM_FIELDS)


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]  # HasRolePermission: signed in


class AgreementSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.display_name", read_only=True)
    accepted_by = serializers.EmailField(source="accepted_by.email", read_only=True, default=None)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "partner",
            "partner_name",
            "reference",
            *TERM_FIELDS,
            "status",
            "version",
            "signed_document",
            "accepted_by_partner_at",
            "accepted_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AgreementWriteSerializer(serializers.Serializer):
    """Create or edit a draft."""

    partner = TenantPrimaryKeyRelatedField(model=Partner)
    reference = serializers.CharField(max_length=64)
    agreement_type = serializers.ChoiceField(choices=AgreementType.choices)
    title = serializers.CharField(max_length=200)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    auto_renew = serializers.BooleanField(required=False)
    notice_period_days = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    review_cadence = serializers.ChoiceField(choices=ReviewCadence.choices, required=False)
    next_review_date = serializers.DateField(required=False, allow_null=True)
    terms = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_date") or getattr(self.instance, "start_date", None)
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": "The end date is before the start."})
        return attrs


class AgreementAmendSerializer(serializers.Serializer):
    """The changed terms (only those given change) and why."""

    reason = serializers.CharField()
    agreement_type = serializers.ChoiceField(choices=AgreementType.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)
    auto_renew = serializers.BooleanField(required=False)
    notice_period_days = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    review_cadence = serializers.ChoiceField(choices=ReviewCadence.choices, required=False)
    next_review_date = serializers.DateField(required=False, allow_null=True)
    terms = serializers.CharField(required=False, allow_blank=True)


class AgreementTransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=AgreementStatus.choices)


class AgreementReviewSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.EmailField(source="reviewed_by.email", read_only=True, default=None)

    class Meta:
        model = AgreementReview
        fields = ["id", "reviewed_on", "notes", "next_review_date", "reviewed_by", "created_at"]
        read_only_fields = fields


class AgreementReviewRequestSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AgreementSignSerializer(serializers.Serializer):
    document = TenantPrimaryKeyRelatedField(model=Document)


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class AgreementVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    current = serializers.BooleanField()
    terms = serializers.JSONField()
    reason = serializers.CharField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(allow_null=True)
    changes = FieldChangeSerializer(many=True)

    def get_created_by(self, entry: dict[str, Any]) -> str | None:
        user = entry.get("created_by")
        return user.email if user is not None else None


EXAMPLE_CREATE = OpenApiExample(
    "A revenue-share draft",
    value={
        "partner": 12,
        "reference": "AGR-2026-014",
        "agreement_type": "revenue_share",
        "title": "Video bundle revenue share",
        "start_date": "2026-01-01",
        "end_date": "2027-12-31",
        "auto_renew": False,
        "notice_period_days": 90,
        "review_cadence": "quarterly",
        "terms": "70/30 split of net revenue.",
    },
    request_only=True,
)
AGREEMENT_EXAMPLE = {
    "id": 31,
    "partner": 42,
    "partner_name": "StreamWave",
    "reference": "AGR-2026-014",
    "agreement_type": "revenue_share",
    "title": "Video bundle revenue share",
    "start_date": "2026-01-01",
    "end_date": "2027-12-31",
    "auto_renew": False,
    "notice_period_days": 90,
    "review_cadence": "quarterly",
    "next_review_date": "2026-12-31",
    "terms": "70/30 split of net revenue in EUR, settled monthly.",
    "status": "active",
    "version": 2,
    "signed_document": 312,
    "accepted_by_partner_at": "2025-12-18T14:20:00Z",
    "accepted_by": "jane.partner@streamwave.example",
    "created_at": "2025-11-28T09:00:00Z",
    "updated_at": "2026-10-02T11:30:00Z",
}
DRAFT_EXAMPLE = {
    **AGREEMENT_EXAMPLE,
    "terms": "70/30 split of net revenue.",
    "next_review_date": None,
    "status": "draft",
    "version": 1,
    "signed_document": None,
    "accepted_by_partner_at": None,
    "accepted_by": None,
    "updated_at": "2025-11-28T09:00:00Z",
}
AGREEMENT_RESPONSE = OpenApiExample(
    "Active revenue share", value=AGREEMENT_EXAMPLE, response_only=True
)
DRAFT_RESPONSE = OpenApiExample("Draft", value=DRAFT_EXAMPLE, response_only=True)
REVIEW_EXAMPLE = {
    "id": 5,
    "reviewed_on": "2026-09-30",
    "notes": "Volumes on plan; keep the 70/30 split.",
    "next_review_date": "2026-12-31",
    "reviewed_by": "manager@demo.test",
    "created_at": "2026-09-30T15:00:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="List agreements (filter, order, search)", examples=[AGREEMENT_RESPONSE]
    ),
    retrieve=extend_schema(summary="One agreement's current terms", examples=[AGREEMENT_RESPONSE]),
    create=extend_schema(
        summary="Create a draft agreement",
        request=AgreementWriteSerializer,
        responses={201: AgreementSerializer, 400: ErrorSerializer},
        examples=[EXAMPLE_CREATE],
    ),
    partial_update=extend_schema(
        summary="Edit a draft",
        request=AgreementWriteSerializer,
        responses={200: AgreementSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample("Longer notice", value={"notice_period_days": 120}, request_only=True),
            OpenApiExample(
                "Draft", value={**DRAFT_EXAMPLE, "notice_period_days": 120}, response_only=True
            ),
        ],
    ),
    update=extend_schema(
        summary="Replace a draft's terms",
        request=AgreementWriteSerializer,
        responses={200: AgreementSerializer, 400: ErrorSerializer},
        examples=[EXAMPLE_CREATE, DRAFT_RESPONSE],
    ),
    destroy=extend_schema(
        summary="Delete a draft",
        responses={204: None, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Not a draft",
                value={
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "The request has invalid fields.",
                        "details": {
                            "non_field_errors": [
                                "Only draft agreements can be deleted; this one is active: "
                                "terminate it instead."
                            ]
                        },
                    }
                },
                response_only=True,
                status_codes=["400"],
            )
        ],
    ),
)
class AgreementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """Agreements with partners; drafts are edited in place, later changes are amendments."""

    model = Agreement
    serializer_class = AgreementSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filterset_class = AgreementFilter
    ordering_fields = ["reference", "start_date", "end_date", "next_review_date", "status", "id"]
    ordering = ["-start_date", "reference"]
    search_fields: list[str] = []

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("partner", "signed_document", "accepted_by")

    @export_schema(
        summary="Export agreements",
        description="The filtered list (same filters and ordering as the list) as CSV or XLSX.",
        example_csv=(
            "Reference,Title,Partner,Type,Status,Version,Start,End,Auto-renew,Notice (days),"
            "Review cadence,Next review,Accepted by partner\r\n"
            "AG-2026-014,Reseller agreement,Nordic Resellers,Reseller,Active,2,2026-01-01,"
            "2027-12-31,yes,90,Quarterly,2026-12-31,\r\n"
        ),
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> Any:
        return export_response(
            request,
            rows=agreement_export_rows(self.filter_queryset(self.get_queryset())),
            columns=AGREEMENT_EXPORT_COLUMNS,
            name="agreements",
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AgreementWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = services.agreement_create(**data.validated_data)
        return Response(AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        agreement = self.get_object()
        partial = kwargs.get("partial", False)
        data = AgreementWriteSerializer(agreement, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "partner" in values and values["partner"].pk != agreement.partner_id:
            raise serializers.ValidationError(
                {"partner": "The partner of an agreement cannot change."}
            )
        values.pop("partner", None)
        agreement = services.agreement_update(agreement=agreement, **values)
        return Response(AgreementSerializer(agreement_list().get(pk=agreement.pk)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.agreement_delete(agreement=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Amend an agreement: the current terms become a readable version",
        request=AgreementAmendSerializer,
        responses={200: AgreementSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Extend by a year",
                value={"end_date": "2028-12-31", "reason": "Extension agreed at the QBR."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        data = AgreementAmendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reason = values.pop("reason")
        agreement = services.agreement_amend(
            agreement=agreement, changes=values, reason=reason, actor=_user(request)
        )
        return Response(AgreementSerializer(agreement_list().get(pk=agreement.pk)).data)

    @extend_schema(
        summary="Move an agreement: draft → pending_signature → active → expired | terminated",
        request=AgreementTransitionSerializer,
        responses={200: AgreementSerializer, 400: ErrorSerializer},
        examples=[OpenApiExample("Activate", value={"to_status": "active"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        data = AgreementTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = services.agreement_transition(
            agreement=agreement, to_status=data.validated_data["to_status"], actor=_user(request)
        )
        return Response(AgreementSerializer(agreement_list().get(pk=agreement.pk)).data)

    @extend_schema(
        summary="Record a completed review; sets the next review date by cadence",
        request=AgreementReviewRequestSerializer,
        responses={201: AgreementReviewSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "QBR notes", value={"notes": REVIEW_EXAMPLE["notes"]}, request_only=True
            ),
            OpenApiExample("Recorded", value=REVIEW_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"], url_path="review-complete")
    def review_complete(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        data = AgreementReviewRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.agreement_review_complete(
            agreement=agreement, actor=_user(request), notes=data.validated_data["notes"]
        )
        return Response(AgreementReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Attach the signed copy (a document of the same partner)",
        request=AgreementSignSerializer,
        responses={200: AgreementSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample("Signed copy", value={"document": 312}, request_only=True),
            AGREEMENT_RESPONSE,
        ],
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        data = AgreementSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = services.agreement_sign(
            agreement=agreement, document=data.validated_data["document"], actor=_user(request)
        )
        return Response(AgreementSerializer(agreement_list().get(pk=agreement.pk)).data)

    @extend_schema(
        summary="Every version, oldest first, with the fields each amendment changed",
        responses={200: AgreementVersionSerializer(many=True)},
        filters=False,
        examples=[
            # One entry: drf-spectacular wraps it in the list.
            OpenApiExample(
                "Extended",
                value={
                    "number": 2,
                    "current": True,
                    "terms": {key: AGREEMENT_EXAMPLE[key] for key in services.TERM_FIELDS},
                    "reason": "Settlement currency and frequency agreed at the QBR.",
                    "created_by": "manager@demo.test",
                    "created_at": "2026-10-02T11:30:00Z",
                    "changes": [
                        {
                            "field": "terms",
                            "before": "70/30 split of net revenue.",
                            "after": "70/30 split of net revenue in EUR, settled monthly.",
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        history = agreement_version_history(agreement_detail(agreement.pk))
        return Response(AgreementVersionSerializer(history, many=True).data)

    @extend_schema(
        summary="The agreement's completed reviews, newest first",
        responses={200: AgreementReviewSerializer(many=True)},
        filters=False,
        examples=[OpenApiExample("Reviews", value=REVIEW_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def reviews(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        return Response(
            AgreementReviewSerializer(agreement_detail(agreement.pk).reviews.all(), many=True).data
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("agreements", AgreementViewSet, basename="agreement")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
