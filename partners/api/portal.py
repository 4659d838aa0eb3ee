"""API of the partner portal, under /api/v1/portal/ (mounted by partners/api/urls.py).

For partner users only (role ``partner``, bound to one partner). Every queryset comes from
partners.selectors.portal with the caller's partner: another partner's id answers 404, and a
foreign document id in a body answers 400 "does not exist", exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import HasRolePermission
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantScopedViewSet
from partners.access import IsPortalUser, portal_partner
from partners.api.examples import DOCUMENT_EXAMPLE, NOT_FOUND_EXAMPLE
from partners.models import (
    Agreement,
    ChangeRequest,
    ChecklistStep,
    Document,
    DocumentType,
    Invitation,
    Partner,
)
from partners.selectors import portal as selectors
from partners.services import portal as services
from partners.services.documents import document_upload
from partners.views.portal import download_response

TAG = "portal"


def _partner_of(request: Any) -> Partner:
    partner = portal_partner(request)
    if partner is None:  # IsPortalUser refuses such callers before this runs
        raise NotFound()
    return partner


class PortalViewSet(TenantScopedViewSet):
    """A portal viewset: the portal permission, a (not exited) partner, and a queryset of that
    partner's rows only, from the selectors."""

    permission_classes = [HasRolePermission, IsPortalUser]
    read_perm = Perm.PORTAL_ACCESS
    write_perm = Perm.PORTAL_ACCESS

    def get_partner(self) -> Partner:
        return _partner_of(self.request)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.partner_queryset(self.get_partner())

    def partner_queryset(self, partner: Partner) -> QuerySet[Any]:
        raise NotImplementedError


# --- serializers -----------------------------------------------------------------------------


class PortalDocumentField(serializers.PrimaryKeyRelatedField):
    """A document id of the caller's partner; any other id answers like a missing one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Document._base_manager.none())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.portal_documents(partner=_partner_of(self.context["request"]))


class StageSerializer(serializers.Serializer):
    status = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "current", "todo"])


class OnboardingSerializer(serializers.Serializer):
    stages = StageSerializer(many=True)
    in_pipeline = serializers.BooleanField(
        help_text="False when rejected, suspended, offboarding or exited."
    )
    mandatory_total = serializers.IntegerField()
    mandatory_done = serializers.IntegerField()
    percent_done = serializers.IntegerField()
    steps_for_partner = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the pending steps that are yours."
    )


class PortalPartnerSerializer(serializers.ModelSerializer):
    partner_type = serializers.CharField(source="partner_type.name")
    partner_type_key = serializers.CharField(source="partner_type.key")
    tier = serializers.CharField(source="tier.name", allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display")
    onboarding = serializers.SerializerMethodField()

    class Meta:
        model = Partner
        fields = [
            "id",
            "legal_name",
            "trading_name",
            "registration_number",
            "tax_id",
            "country",
            "website",
            "offering",
            "partner_type",
            "partner_type_key",
            "tier",
            "status",
            "status_label",
            "status_changed_at",
            "rejection_reason",
            "onboarding",
        ]
        read_only_fields = fields

    @extend_schema_field(OnboardingSerializer)
    def get_onboarding(self, partner: Partner) -> dict[str, Any]:
        overview: selectors.PortalOverview = self.context["overview"]
        return {
            "stages": [
                {"status": s.status, "name": s.label, "state": s.state} for s in overview.stages
            ],
            "in_pipeline": overview.in_pipeline,
            "mandatory_total": overview.mandatory_total,
            "mandatory_done": overview.mandatory_done,
            "percent_done": overview.percent_done,
            "steps_for_partner": [step.pk for step in overview.for_partner],
        }


class ChecklistStepSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display")
    document: serializers.PrimaryKeyRelatedField[Document] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    can_complete = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistStep
        fields = [
            "id",
            "key",
            "title",
            "description",
            "mandatory",
            "completed_by_party",
            "evidence",
            "state",
            "state_label",
            "note",
            "document",
            "completed_at",
            "can_complete",
        ]
        read_only_fields = fields

    def get_can_complete(self, step: ChecklistStep) -> bool:
        return step.state == ChecklistStep.State.PENDING and step.completed_by_party != "csp"


class StepCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    document = PortalDocumentField(
        required=False, allow_null=True, default=None, help_text="Id of one of your documents."
    )


class PortalDocumentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "doc_type",
            "title",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "issued_on",
            "expires_on",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        return reverse("api:portal-document-download", kwargs={"pk": document.pk})


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG, XLSX or CSV; checked by content.")
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    issued_on = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        issued, expires = attrs.get("issued_on"), attrs.get("expires_on")
        if issued and expires and expires < issued:
            raise serializers.ValidationError(
                {"expires_on": "The expiry date is before the issue date."}
            )
        return attrs


class PortalAgreementSerializer(serializers.ModelSerializer):
    can_accept = serializers.SerializerMethodField()
    signed_document: serializers.PrimaryKeyRelatedField[Document] = (
        serializers.PrimaryKeyRelatedField(read_only=True)
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "reference",
            "title",
            "agreement_type",
            "status",
            "version",
            "start_date",
            "end_date",
            "auto_renew",
            "notice_period_days",
            "review_cadence",
            "terms",
            "signed_document",
            "accepted_by_partner_at",
            "can_accept",
        ]
        read_only_fields = fields

    def get_can_accept(self, agreement: Agreement) -> bool:
        return selectors.agreement_can_be_accepted(agreement)


class ChangeRequestSerializer(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField(
        help_text="The requested values; an IBAN is shown masked."
    )

    class Meta:
        model = ChangeRequest
        fields = ["id", "kind", "payload", "status", "requested_at", "decided_at", "comment"]
        read_only_fields = fields

    def get_payload(self, request: ChangeRequest) -> dict[str, str]:
        payload = dict(request.payload or {})
        iban = payload.get("iban")
        if iban:
            payload["iban"] = f"{iban[:4]}••••{iban[-4:]}" if len(iban) > 8 else "••••"
        return payload


class ChangeRequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeRequest.Kind.choices)
    payload = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        help_text=(
            "company: legal_name, trading_name, registration_number, tax_id, country, website; "
            "bank: account_holder, iban, swift_bic, bank_name, currency."
        ),
    )


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "email", "created_at", "expires_at", "accepted_at"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()


# --- filters ---------------------------------------------------------------------------------


class ChecklistFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ChecklistStep.State.choices)

    class Meta:
        model = ChecklistStep
        fields = ["state"]


class DocumentFilter(django_filters.FilterSet):
    doc_type = django_filters.ChoiceFilter(choices=DocumentType.choices)

    class Meta:
        model = Document
        fields = ["doc_type"]


# --- views -----------------------------------------------------------------------------------

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not one of your partner's rows.")
INVALID = OpenApiResponse(ErrorSerializer, description="Invalid input; nothing changed.")

# --- examples --------------------------------------------------------------------------------

PORTAL_PARTNER_EXAMPLE = {
    "id": 42,
    "legal_name": "StreamWave Media GmbH",
    "trading_name": "StreamWave",
    "registration_number": "HRB 123456",
    "tax_id": "DE811234567",
    "country": "DE",
    "website": "https://streamwave.example",
    "offering": "Video on demand bundles for mobile subscribers.",
    "partner_type": "Content provider",
    "partner_type_key": "content_provider",
    "tier": "Gold",
    "status": "integration",
    "status_label": "Integration",
    "status_changed_at": "2026-11-10T09:00:00Z",
    "rejection_reason": "",
    "onboarding": {
        "stages": [
            {"status": "applied", "name": "Applied", "state": "done"},
            {"status": "vetting", "name": "Vetting", "state": "done"},
            {"status": "due_diligence", "name": "Due diligence", "state": "done"},
            {"status": "contracting", "name": "Contracting", "state": "done"},
            {"status": "integration", "name": "Integration", "state": "current"},
            {"status": "active", "name": "Active", "state": "todo"},
        ],
        "in_pipeline": True,
        "mandatory_total": 5,
        "mandatory_done": 4,
        "percent_done": 80,
        "steps_for_partner": [1203],
    },
}
PORTAL_STEP_EXAMPLE = {
    "id": 1203,
    "key": "test_traffic",
    "title": "Test traffic passed",
    "description": "Stream 1,000 test sessions through the CSP's CDN.",
    "mandatory": True,
    "completed_by_party": "partner",
    "evidence": "document",
    "state": "pending",
    "state_label": "Pending",
    "note": "",
    "document": None,
    "completed_at": None,
    "can_complete": True,
}
PORTAL_DOCUMENT_EXAMPLE = {
    **{k: v for k, v in DOCUMENT_EXAMPLE.items() if k not in ("partner", "uploaded_by")},
    "download_url": "/api/v1/portal/documents/310/download/",
}
PORTAL_AGREEMENT_EXAMPLE = {
    "id": 31,
    "reference": "AGR-2026-014",
    "title": "Video bundle revenue share",
    "agreement_type": "revenue_share",
    "status": "pending_signature",
    "version": 1,
    "start_date": "2026-01-01",
    "end_date": "2027-12-31",
    "auto_renew": False,
    "notice_period_days": 90,
    "review_cadence": "quarterly",
    "terms": "70/30 split of net revenue in EUR, settled monthly.",
    "signed_document": None,
    "accepted_by_partner_at": None,
    "can_accept": True,
}
PORTAL_CHANGE_REQUEST_EXAMPLE = {
    "id": 24,
    "kind": "bank",
    "payload": {
        "account_holder": "StreamWave Media GmbH",
        "iban": "DE89••••3000",
        "swift_bic": "COBADEFFXXX",
        "currency": "EUR",
    },
    "status": "pending",
    "requested_at": "2026-11-21T10:05:00Z",
    "decided_at": None,
    "comment": "",
}
PORTAL_STEP_RESPONSE = OpenApiExample(
    "Yours to complete", value=PORTAL_STEP_EXAMPLE, response_only=True
)
PORTAL_DOCUMENT_RESPONSE = OpenApiExample(
    "Content licence", value=PORTAL_DOCUMENT_EXAMPLE, response_only=True
)
PORTAL_AGREEMENT_RESPONSE = OpenApiExample(
    "Awaiting your acceptance", value=PORTAL_AGREEMENT_EXAMPLE, response_only=True
)
PORTAL_CHANGE_REQUEST_RESPONSE = OpenApiExample(
    "Pending bank change", value=PORTAL_CHANGE_REQUEST_EXAMPLE, response_only=True
)


class PortalPartnerView(APIView):
    """Your partner: company details and onboarding status with its progress."""

    permission_classes = [HasRolePermission, IsPortalUser]
    read_perm = Perm.PORTAL_ACCESS
    write_perm = Perm.PORTAL_ACCESS

    @extend_schema(
        responses={200: PortalPartnerSerializer},
        tags=[TAG],
        examples=[
            OpenApiExample("In integration", value=PORTAL_PARTNER_EXAMPLE, response_only=True)
        ],
    )
    def get(self, request: Request) -> Response:
        overview = selectors.portal_overview(partner=_partner_of(request))
        data = PortalPartnerSerializer(overview.partner, context={"overview": overview}).data
        return Response(data)


@extend_schema_view(
    list=extend_schema(examples=[PORTAL_STEP_RESPONSE]),
    retrieve=extend_schema(examples=[PORTAL_STEP_RESPONSE]),
)
@extend_schema(tags=[TAG])
class PortalChecklistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Your onboarding checklist; complete the steps that are yours."""

    model = ChecklistStep
    serializer_class = ChecklistStepSerializer
    filterset_class = ChecklistFilter
    ordering_fields = ["position", "completed_at"]

    def partner_queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.portal_checklist(partner=partner)

    @extend_schema(
        request=StepCompleteSerializer,
        responses={200: ChecklistStepSerializer, 400: INVALID, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "With a note", value={"note": "IBAN sent to finance"}, request_only=True
            ),
            OpenApiExample("With a document", value={"document": 42}, request_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        step = self.get_object()
        data = StepCompleteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        user: User = request.user  # type: ignore[assignment]
        step = services.portal_step_complete(
            partner=self.get_partner(),
            step=step,
            actor=user,
            note=data.validated_data["note"],
            document=data.validated_data["document"],
        )
        return Response(ChecklistStepSerializer(step).data)


@extend_schema_view(
    list=extend_schema(examples=[PORTAL_DOCUMENT_RESPONSE]),
    retrieve=extend_schema(examples=[PORTAL_DOCUMENT_RESPONSE]),
)
@extend_schema(tags=[TAG])
class PortalDocumentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, PortalViewSet
):
    """Your documents: list, upload (multipart; checked by content and size), download."""

    model = Document
    serializer_class = PortalDocumentSerializer
    filterset_class = DocumentFilter
    ordering_fields = ["uploaded_at", "expires_on"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def partner_queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.portal_documents(partner=partner)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: PortalDocumentSerializer, 400: INVALID},
        examples=[PORTAL_DOCUMENT_RESPONSE],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        document = document_upload(
            partner=self.get_partner(),
            upload=values["file"],
            doc_type=values["doc_type"],
            uploaded_by=request.user,  # type: ignore[arg-type]
            title=values["title"],
            issued_on=values["issued_on"],
            expires_on=values["expires_on"],
        )
        return Response(PortalDocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment."
            ),
            404: NOT_FOUND,
        },
        examples=[NOT_FOUND_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> Any:
        return download_response(self.get_object())


@extend_schema_view(
    list=extend_schema(examples=[PORTAL_AGREEMENT_RESPONSE]),
    retrieve=extend_schema(examples=[PORTAL_AGREEMENT_RESPONSE]),
)
@extend_schema(tags=[TAG])
class PortalAgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Your agreements (not drafts); accept those pending signature or active."""

    model = Agreement
    serializer_class = PortalAgreementSerializer
    ordering_fields = ["start_date", "end_date", "reference"]

    def partner_queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.portal_agreements(partner=partner)

    @extend_schema(
        request=None,
        responses={200: PortalAgreementSerializer, 400: INVALID, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Accepted",
                value={
                    **PORTAL_AGREEMENT_EXAMPLE,
                    "accepted_by_partner_at": "2026-11-22T09:30:00Z",
                    "can_accept": False,
                },
                response_only=True,
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        agreement = services.portal_agreement_accept(
            partner=self.get_partner(),
            agreement=self.get_object(),
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(PortalAgreementSerializer(agreement).data)


@extend_schema_view(
    list=extend_schema(examples=[PORTAL_CHANGE_REQUEST_RESPONSE]),
    retrieve=extend_schema(examples=[PORTAL_CHANGE_REQUEST_RESPONSE]),
)
@extend_schema(tags=[TAG])
class PortalChangeRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, PortalViewSet
):
    """Changes of your company or bank details; they apply once the operator approves them."""

    model = ChangeRequest
    serializer_class = ChangeRequestSerializer
    ordering_fields = ["requested_at"]

    def partner_queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.portal_change_requests(partner=partner)

    @extend_schema(
        request=ChangeRequestCreateSerializer,
        responses={201: ChangeRequestSerializer, 400: INVALID},
        examples=[
            OpenApiExample(
                "Company details",
                value={"kind": "company", "payload": {"trading_name": "StreamWave"}},
                request_only=True,
            ),
            OpenApiExample(
                "Bank details",
                value={
                    "kind": "bank",
                    "payload": {
                        "account_holder": "StreamWave Media GmbH",
                        "iban": "DE89370400440532013000",
                        "swift_bic": "COBADEFFXXX",
                        "currency": "EUR",
                    },
                },
                request_only=True,
            ),
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ChangeRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.change_request_create(
            partner=self.get_partner(),
            kind=data.validated_data["kind"],
            payload=data.validated_data["payload"],
            requested_by=request.user,  # type: ignore[arg-type]
        )
        return Response(ChangeRequestSerializer(change).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        examples=[
            OpenApiExample(
                "Pending",
                value={
                    "id": 14,
                    "email": "colleague@streamwave.example",
                    "created_at": "2026-11-20T12:00:00Z",
                    "expires_at": "2026-11-27T12:00:00Z",
                    "accepted_at": None,
                },
                response_only=True,
            )
        ]
    )
)
@extend_schema(tags=[TAG])
class PortalInvitationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, PortalViewSet):
    """Invite colleagues to your partner; lists the invitations not yet accepted."""

    model = Invitation
    serializer_class = InvitationSerializer
    ordering_fields = ["created_at", "expires_at"]

    def partner_queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.portal_invitations_pending(partner=partner)

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, 400: INVALID},
        examples=[
            OpenApiExample("Invite", value={"email": "colleague@example.com"}, request_only=True)
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.invitation_create(
            partner=self.get_partner(),
            email=data.validated_data["email"],
            invited_by=request.user,  # type: ignore[arg-type]
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
        return Response(
            InvitationSerializer(issued.invitation).data, status=status.HTTP_201_CREATED
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("portal/checklist", PortalChecklistViewSet, basename="portal-checklist")
router.register("portal/documents", PortalDocumentViewSet, basename="portal-document")
router.register("portal/agreements", PortalAgreementViewSet, basename="portal-agreement")
router.register(
    "portal/change-requests", PortalChangeRequestViewSet, basename="portal-change-request"
)
router.register("portal/invitations", PortalInvitationViewSet, basename="portal-invitation")

urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/partner/", PortalPartnerView.as_view(), name="portal-partner"),
    *router.urls,
]
