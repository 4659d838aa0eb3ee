"""API: the partner registry (mounted under /api/v1/ by partners/api/urls.py).

Partners, their contacts, documents and bank details, partner types, tiers, tags, and the
CSP's decisions on change requests. Plain resources are short viewsets on the tenant-scoped
base; every write is a service call.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver, path, reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
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

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from partnerhub.core.api import ErrorSerializer, TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partnerhub.core.pagination import IdFirstPagination
from partners.api.examples import DOCUMENT_EXAMPLE, NOT_FOUND_EXAMPLE
from partners.api.exporting import export_response, export_schema
from partners.forms.registry import PartnerFilter
from partners.models import (
    BankDetails,
    ChangeRequest,
    Contact,
    Document,
    DocumentType,
    Partner,
    PartnerTier,
    PartnerType,
    Tag,
)
from partners.selectors import registry as selectors
from partners.services import registry as services
from partners.services.documents import open_document

PARTNER_PK = OpenApiParameter(
    "partner_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The partner's id."
)
ERRORS = {
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
}


def _user(request: Request) -> User:
    return cast(User, request.user)


def _can_bank(request: Request) -> bool:
    return role_has_perm(request_role(request), Perm.PARTNERS_BANK_DETAILS_CHANGE)


# --- Serializers ---------------------------------------------------------------------------


class PartnerTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerType
        fields = ["id", "key", "name", "is_builtin"]
        read_only_fields = ["id", "is_builtin"]
        extra_kwargs = {"key": {"required": False, "help_text": "Derived from the name if empty."}}


class PartnerTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerTier
        fields = ["id", "name", "rank"]
        read_only_fields = ["id"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]
        read_only_fields = ["id"]


class AccountOwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()


class BankSummarySerializer(serializers.ModelSerializer):
    """Bank details in partner listings: always masked."""

    iban_masked = serializers.CharField(source="masked_iban")

    class Meta:
        model = BankDetails
        fields = ["account_holder", "iban_masked", "bank_name", "currency"]
        read_only_fields = fields


class PartnerSerializer(serializers.ModelSerializer):
    partner_type = PartnerTypeSerializer(read_only=True)
    tier = PartnerTierSerializer(read_only=True, allow_null=True)
    parent_name = serializers.CharField(
        source="parent.display_name", read_only=True, default=None, allow_null=True
    )
    account_owner = AccountOwnerSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    bank_details = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Partner
        fields = [
            "id",
            "url",
            "display_name",
            "legal_name",
            "trading_name",
            "registration_number",
            "tax_id",
            "country",
            "website",
            "offering",
            "partner_type",
            "tier",
            "parent",
            "parent_name",
            "account_owner",
            "status",
            "status_changed_at",
            "rejection_reason",
            "risk_level",
            "last_contact_on",
            "tags",
            "bank_details",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_tags(self, partner: Partner) -> list[str]:
        return [tag.name for tag in partner.tags.all()]

    @extend_schema_field(BankSummarySerializer(allow_null=True))
    def get_bank_details(self, partner: Partner) -> dict[str, Any] | None:
        try:
            details = partner.bank_details
        except BankDetails.DoesNotExist:
            return None
        return BankSummarySerializer(details).data

    def get_url(self, partner: Partner) -> str:
        """The partner's page in the web app."""
        return reverse("partners:detail", args=[partner.pk])


class StaffUserField(serializers.PrimaryKeyRelatedField):
    """A CSP staff member of the active tenant; anyone else answers like a missing id."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[User]:
        return selectors.staff_users()


class PartnerWriteSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    trading_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    registration_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        max_length=2,
        help_text="ISO 3166 alpha-2 code, e.g. DE.",
        error_messages={"invalid": "Use an ISO 3166 alpha-2 country code, e.g. DE."},
    )
    website = serializers.URLField(required=False, allow_blank=True)
    offering = serializers.CharField(required=False, allow_blank=True)
    partner_type = TenantPrimaryKeyRelatedField(model=PartnerType)
    tier = TenantPrimaryKeyRelatedField(model=PartnerTier, required=False, allow_null=True)
    # A declared field named like Field.parent: DRF's metaclass moves it off the class.
    parent = TenantPrimaryKeyRelatedField(  # type: ignore[assignment]
        model=Partner, required=False, allow_null=True
    )
    account_owner = StaffUserField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text="Tag names; new names become tags.",
    )

    def validate_country(self, value: str) -> str:
        return value.upper()


PARTNER_CREATE_EXAMPLE = OpenApiExample(
    "A content provider",
    value={
        "legal_name": "StreamWave Media GmbH",
        "trading_name": "StreamWave",
        "registration_number": "HRB 123456",
        "tax_id": "DE811234567",
        "country": "DE",
        "website": "https://streamwave.example",
        "offering": "Video on demand bundles for mobile subscribers.",
        "partner_type": 4,
        "tier": 2,
        "account_owner": 2,
        "tags": ["Video", "Consumer"],
    },
    request_only=True,
)


class PartnerContactSerializer(serializers.ModelSerializer):
    is_primary = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Making a contact primary unsets the partner's previous primary contact.",
    )

    class Meta:
        model = Contact
        fields = ["id", "partner", "name", "role", "email", "phone", "is_primary"]
        read_only_fields = ["id", "partner"]


class PartnerDocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.EmailField(source="uploaded_by.email", read_only=True, default=None)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "partner",
            "doc_type",
            "title",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "issued_on",
            "expires_on",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        return reverse(
            "api:partner-document-download",
            kwargs={"partner_pk": document.partner_id, "pk": document.pk},
        )


class PartnerDocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG, XLSX or CSV; checked by content.")
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    issued_on = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class PartnerBankDetailsSerializer(serializers.ModelSerializer):
    iban = serializers.SerializerMethodField(
        help_text="The full IBAN for finance and admins, masked for everyone else."
    )
    iban_masked = serializers.CharField(source="masked_iban", read_only=True)
    is_masked = serializers.SerializerMethodField()

    class Meta:
        model = BankDetails
        fields = [
            "account_holder",
            "iban",
            "iban_masked",
            "is_masked",
            "swift_bic",
            "bank_name",
            "currency",
            "updated_at",
        ]
        read_only_fields = fields

    def _masked(self) -> bool:
        return not _can_bank(self.context["request"])

    def get_iban(self, details: BankDetails) -> str:
        return details.masked_iban if self._masked() else details.iban

    def get_is_masked(self, details: BankDetails) -> bool:
        return self._masked()


class PartnerBankDetailsWriteSerializer(serializers.Serializer):
    account_holder = serializers.CharField(max_length=200)
    iban = serializers.CharField(max_length=42)
    swift_bic = serializers.CharField(max_length=14, required=False, allow_blank=True, default="")
    bank_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    currency = serializers.CharField(max_length=3, required=False, default="EUR")


class PartnerChangeRequestSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.display_name", read_only=True)
    requested_by = serializers.EmailField(source="requested_by.email", read_only=True, default=None)
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, default=None)
    payload = serializers.SerializerMethodField(
        help_text="The requested values, {field: new value}; an IBAN is masked unless you "
        "may change bank details."
    )

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "partner",
            "partner_name",
            "kind",
            "payload",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields

    def get_payload(self, change: ChangeRequest) -> dict[str, Any]:
        payload = dict(change.payload) if isinstance(change.payload, dict) else {}
        iban = payload.get("iban")
        if iban and not _can_bank(self.context["request"]):
            text = str(iban)
            payload["iban"] = f"{text[:4]}••••{text[-4:]}" if len(text) > 8 else "••••"
        return payload


class ChangeRequestDecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required to reject."
    )


# --- Examples ------------------------------------------------------------------------------

PARTNER_TYPE_EXAMPLE = {
    "id": 4,
    "key": "content_provider",
    "name": "Content provider",
    "is_builtin": True,
}
PARTNER_TIER_EXAMPLE = {"id": 2, "name": "Gold", "rank": 30}
TAG_EXAMPLE = {"id": 9, "name": "Video"}
PARTNER_EXAMPLE = {
    "id": 42,
    "url": "/partners/42/",
    "display_name": "StreamWave",
    "legal_name": "StreamWave Media GmbH",
    "trading_name": "StreamWave",
    "registration_number": "HRB 123456",
    "tax_id": "DE811234567",
    "country": "DE",
    "website": "https://streamwave.example",
    "offering": "Video on demand bundles for mobile subscribers.",
    "partner_type": PARTNER_TYPE_EXAMPLE,
    "tier": PARTNER_TIER_EXAMPLE,
    "parent": None,
    "parent_name": None,
    "account_owner": {"id": 2, "email": "manager@demo.test", "full_name": "Max Manager"},
    "status": "active",
    "status_changed_at": "2026-10-01T08:00:00Z",
    "rejection_reason": "",
    "risk_level": "medium",
    "last_contact_on": "2026-11-20",
    "tags": ["Consumer", "Video"],
    "bank_details": {
        "account_holder": "StreamWave Media GmbH",
        "iban_masked": "DE89••••3000",
        "bank_name": "Commerzbank",
        "currency": "EUR",
    },
    "created_at": "2026-06-12T10:15:00Z",
    "updated_at": "2026-11-20T16:40:00Z",
}
CONTACT_REQUEST_EXAMPLE = {
    "name": "Jane Partner",
    "role": "Head of Partnerships",
    "email": "jane.partner@streamwave.example",
    "phone": "+49 30 1234567",
    "is_primary": True,
}
CONTACT_EXAMPLE = {"id": 87, "partner": 42, **CONTACT_REQUEST_EXAMPLE}
BANK_DETAILS_EXAMPLE = {
    "account_holder": "StreamWave Media GmbH",
    "iban": "DE89••••3000",
    "iban_masked": "DE89••••3000",
    "is_masked": True,
    "swift_bic": "COBADEFFXXX",
    "bank_name": "Commerzbank",
    "currency": "EUR",
    "updated_at": "2026-09-02T13:30:00Z",
}
CHANGE_REQUEST_EXAMPLE = {
    "id": 23,
    "partner": 42,
    "partner_name": "StreamWave",
    "kind": "company",
    "payload": {"trading_name": "StreamWave Media", "website": "https://streamwave.example"},
    "status": "pending",
    "requested_by": "jane.partner@streamwave.example",
    "requested_at": "2026-11-21T10:05:00Z",
    "decided_by": None,
    "decided_at": None,
    "comment": "",
}
CHANGE_REQUEST_APPROVED_EXAMPLE = {
    **CHANGE_REQUEST_EXAMPLE,
    "status": "approved",
    "decided_by": "manager@demo.test",
    "decided_at": "2026-11-22T08:45:00Z",
    "comment": "Matches the commercial register.",
}
PARTNER_RESPONSE = OpenApiExample("StreamWave", value=PARTNER_EXAMPLE, response_only=True)
CONTACT_RESPONSE = OpenApiExample("Primary contact", value=CONTACT_EXAMPLE, response_only=True)
CONTACT_REQUEST = OpenApiExample(
    "Primary contact", value=CONTACT_REQUEST_EXAMPLE, request_only=True
)
DOCUMENT_RESPONSE = OpenApiExample("Content licence", value=DOCUMENT_EXAMPLE, response_only=True)
PARTNER_TYPE_RESPONSE = OpenApiExample(
    "Content provider", value=PARTNER_TYPE_EXAMPLE, response_only=True
)
PARTNER_TIER_RESPONSE = OpenApiExample("Gold", value=PARTNER_TIER_EXAMPLE, response_only=True)
PARTNER_TIER_REQUEST = OpenApiExample("Gold", value={"name": "Gold", "rank": 30}, request_only=True)
TAG_RESPONSE = OpenApiExample("Video", value=TAG_EXAMPLE, response_only=True)
CHANGE_REQUEST_RESPONSE = OpenApiExample(
    "Pending company change", value=CHANGE_REQUEST_EXAMPLE, response_only=True
)


# --- Filters -------------------------------------------------------------------------------


def _partners(request: Any) -> QuerySet[Partner]:
    return Partner.objects.all()


class ChangeRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ChangeRequest.Status.choices)
    kind = django_filters.ChoiceFilter(choices=ChangeRequest.Kind.choices)
    partner = django_filters.ModelChoiceFilter(queryset=_partners)

    class Meta:
        model = ChangeRequest
        fields = ["status", "kind", "partner"]


# --- Viewsets ------------------------------------------------------------------------------


def _as_drf_error(
    exc: DjangoValidationError, field: str | None = None
) -> serializers.ValidationError:
    """A service's ValidationError as a DRF one; messages without a field go to ``field``
    when given, else into the error's message."""
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    if field:
        return serializers.ValidationError({field: exc.messages})
    return serializers.ValidationError(exc.messages)


@extend_schema_view(
    list=extend_schema(
        summary="List partners",
        description="Search, filter and order partners.",
        examples=[PARTNER_RESPONSE],
    ),
    retrieve=extend_schema(
        summary="Get a partner",
        responses={200: PartnerSerializer, **ERRORS},
        examples=[PARTNER_RESPONSE, NOT_FOUND_EXAMPLE],
    ),
)
@extend_schema(tags=["partners"])
class PartnerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Partners of the tenant. No DELETE: partners leave through offboarding."""

    model = Partner
    serializer_class = PartnerSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filter_backends = [DjangoFilterBackend]
    filterset_class = PartnerFilter
    pagination_class = IdFirstPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.partner_list()

    def _respond(self, partner: Partner, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(selectors.partner_get(pk=partner.pk)).data, status=code)

    @extend_schema(
        summary="Register a partner",
        description="The partner starts as `applied`; its onboarding checklist is created.",
        request=PartnerWriteSerializer,
        responses={201: PartnerSerializer, **ERRORS},
        examples=[PARTNER_CREATE_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        data = PartnerWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            partner = services.partner_create(actor=_user(request), **data.validated_data)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return self._respond(partner, status.HTTP_201_CREATED)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        partner = self.get_object()
        data = PartnerWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        tags = values.pop("tags", None)
        try:
            services.partner_update(partner=partner, actor=_user(request), tags=tags, **values)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return self._respond(partner)

    @extend_schema(
        summary="Replace a partner's registry data",
        request=PartnerWriteSerializer,
        responses={200: PartnerSerializer, **ERRORS},
        examples=[PARTNER_CREATE_EXAMPLE, PARTNER_RESPONSE],
    )
    def update(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        summary="Change some of a partner's registry data",
        request=PartnerWriteSerializer,
        responses={200: PartnerSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Promote and tag",
                value={"tier": 2, "tags": ["Consumer", "Video"]},
                request_only=True,
            ),
            PARTNER_RESPONSE,
        ],
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)

    @export_schema(
        summary="Export partners",
        description="The filtered list (same filters as the list) as CSV or XLSX.",
        example_csv=(
            "ID,Legal name,Trading name,Type,Tier,Status,Country,Registration number,"
            "Tax id,Website,Parent,Account owner,Risk level,Last contact,Tags,Created\r\n"
            "42,StreamWave Media GmbH,StreamWave,Content provider,Gold,Active,DE,"
            "HRB 123456,DE811234567,https://streamwave.example,,manager@demo.test,Medium,"
            '2026-11-20,"Consumer, Video",2026-06-12 10:15:00+00:00\r\n'
        ),
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> Any:
        return export_response(
            request,
            rows=selectors.partner_export_rows(self.filter_queryset(self.get_queryset())),
            columns=selectors.PARTNER_EXPORT_COLUMNS,
            name="partners",
        )


class PartnerChildMixin:
    """Sub-resources of one partner: an unknown or foreign partner id answers 404."""

    kwargs: dict[str, Any]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # After the permission checks, before the body is parsed or validated: a foreign
        # partner answers 404, never a validation error about a body it would not accept.
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.get_partner()

    def get_partner(self) -> Partner:
        if not hasattr(self, "_partner"):
            self._partner = get_object_or_404(Partner.objects.all(), pk=self.kwargs["partner_pk"])
        return self._partner


@extend_schema_view(
    list=extend_schema(examples=[CONTACT_RESPONSE]),
    retrieve=extend_schema(examples=[CONTACT_RESPONSE]),
)
@extend_schema(tags=["partners"], parameters=[PARTNER_PK])
class ContactViewSet(
    PartnerChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    """A partner's contacts; one of them is the primary contact."""

    model = Contact
    serializer_class = PartnerContactSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    # The page panel's filters (search, role, primary); the order stays primary first, by name.
    filter_backends: list[Any] = [DjangoFilterBackend]
    filterset_class = selectors.ContactFilter

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(partner=self.get_partner()).order_by("-is_primary", "name", "id")

    @extend_schema(
        request=PartnerContactSerializer,
        responses={201: PartnerContactSerializer, **ERRORS},
        examples=[CONTACT_REQUEST, CONTACT_RESPONSE],
    )
    def create(self, request: Request, partner_pk: int) -> Response:
        data = PartnerContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            contact = services.contact_create(partner=self.get_partner(), **data.validated_data)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(PartnerContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    def _update(self, request: Request, *, partial: bool) -> Response:
        contact = self.get_object()
        data = PartnerContactSerializer(contact, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        try:
            services.contact_update(contact=contact, **data.validated_data)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(PartnerContactSerializer(contact).data)

    @extend_schema(
        request=PartnerContactSerializer,
        responses={200: PartnerContactSerializer, **ERRORS},
        examples=[CONTACT_REQUEST, CONTACT_RESPONSE],
    )
    def update(self, request: Request, partner_pk: int, pk: int) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        request=PartnerContactSerializer,
        responses={200: PartnerContactSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "New phone number", value={"phone": "+49 30 7654321"}, request_only=True
            ),
            CONTACT_RESPONSE,
        ],
    )
    def partial_update(self, request: Request, partner_pk: int, pk: int) -> Response:
        return self._update(request, partial=True)

    @extend_schema(responses={204: None, **ERRORS}, examples=[NOT_FOUND_EXAMPLE])
    def destroy(self, request: Request, partner_pk: int, pk: int) -> Response:
        services.contact_delete(contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @export_schema(
        summary="Export a partner's contacts",
        description="The filtered contacts (same filters as the list) as CSV or XLSX; never "
        "bank details.",
        example_csv=(
            "ID,Name,Role,Email,Phone,Primary\r\n"
            "87,Jane Partner,Head of Partnerships,jane.partner@streamwave.example,"
            "+49 30 1234567,yes\r\n"
        ),
    )
    def export(self, request: Request, partner_pk: int) -> Any:
        return export_response(
            request,
            rows=selectors.contact_export_rows(self.filter_queryset(self.get_queryset())),
            columns=selectors.CONTACT_EXPORT_COLUMNS,
            name=f"contacts-partner-{self.get_partner().pk}",
        )


@extend_schema_view(
    list=extend_schema(examples=[DOCUMENT_RESPONSE]),
    retrieve=extend_schema(examples=[DOCUMENT_RESPONSE]),
)
@extend_schema(tags=["partners"], parameters=[PARTNER_PK])
class DocumentViewSet(
    PartnerChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    """A partner's documents: multipart upload (checked by content and size), download."""

    model = Document
    serializer_class = PartnerDocumentSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    # The page panel's filters (type, expiry, search); newest upload first.
    filter_backends: list[Any] = [DjangoFilterBackend]
    filterset_class = selectors.DocumentFilter
    parser_classes = [MultiPartParser, FormParser]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(partner=self.get_partner())
            .select_related("uploaded_by")
            .order_by("-uploaded_at", "-id")
        )

    @extend_schema(
        request={"multipart/form-data": PartnerDocumentUploadSerializer},
        responses={201: PartnerDocumentSerializer, **ERRORS},
        examples=[DOCUMENT_RESPONSE],
    )
    def create(self, request: Request, partner_pk: int) -> Response:
        data = PartnerDocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            document = services.partner_document_add(
                partner=self.get_partner(),
                upload=values["file"],
                doc_type=values["doc_type"],
                uploaded_by=_user(request),
                title=values["title"],
                issued_on=values["issued_on"],
                expires_on=values["expires_on"],
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc, "file") from exc
        return Response(PartnerDocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **ERRORS}, examples=[NOT_FOUND_EXAMPLE])
    def destroy(self, request: Request, partner_pk: int, pk: int) -> Response:
        services.document_delete(document=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @export_schema(
        summary="Export a partner's document list",
        description="The metadata of the filtered documents (same filters as the list) as CSV "
        "or XLSX: never the files themselves, nor where they are stored.",
        example_csv=(
            "ID,Title,Type,File name,Content type,Size (bytes),SHA-256,Issued,Expires,"
            "Uploaded by,Uploaded at\r\n"
            "310,Content licence 2026,Content licence,streamwave-content-licence-2026.pdf,"
            "application/pdf,482113,"
            "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8,2026-01-15,"
            "2027-01-14,manager@demo.test,2026-11-18T09:12:00\r\n"
        ),
    )
    def export(self, request: Request, partner_pk: int) -> Any:
        return export_response(
            request,
            rows=selectors.document_export_rows(self.filter_queryset(self.get_queryset())),
            columns=selectors.DOCUMENT_EXPORT_COLUMNS,
            name=f"documents-partner-{self.get_partner().pk}",
        )

    @extend_schema(
        summary="Download a document",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ErrorSerializer},
        examples=[NOT_FOUND_EXAMPLE],
    )
    def download(self, request: Request, partner_pk: int, pk: int) -> FileResponse:
        document = self.get_object()
        response = FileResponse(
            open_document(document),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema(tags=["partners"], parameters=[PARTNER_PK])
class BankDetailsViewSet(PartnerChildMixin, TenantScopedViewSet):
    """A partner's payout account: masked unless you are finance or an admin, who may set it."""

    model = BankDetails
    serializer_class = PartnerBankDetailsSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_BANK_DETAILS_CHANGE
    filter_backends: list[Any] = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(partner=self.get_partner())

    @extend_schema(
        responses={200: PartnerBankDetailsSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Masked (partner manager)", value=BANK_DETAILS_EXAMPLE, response_only=True
            ),
            OpenApiExample(
                "Full (finance)",
                value={
                    **BANK_DETAILS_EXAMPLE,
                    "iban": "DE89370400440532013000",
                    "is_masked": False,
                },
                response_only=True,
            ),
        ],
    )
    def retrieve(self, request: Request, partner_pk: int) -> Response:
        details = self.get_queryset().first()
        if details is None:
            raise NotFound("This partner has no bank details yet.")
        return Response(self.get_serializer(details).data)

    @extend_schema(
        request=PartnerBankDetailsWriteSerializer,
        responses={200: PartnerBankDetailsSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A German account",
                value={
                    "account_holder": "StreamWave Media GmbH",
                    "iban": "DE89 3704 0044 0532 0130 00",
                    "swift_bic": "COBADEFFXXX",
                    "bank_name": "Commerzbank",
                    "currency": "EUR",
                },
                request_only=True,
            )
        ],
    )
    def update(self, request: Request, partner_pk: int) -> Response:
        data = PartnerBankDetailsWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            details = services.bank_details_set(
                partner=self.get_partner(),
                actor_role=request_role(request),
                **data.validated_data,
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(self.get_serializer(details).data)


@extend_schema_view(
    list=extend_schema(examples=[PARTNER_TYPE_RESPONSE]),
    retrieve=extend_schema(examples=[PARTNER_TYPE_RESPONSE]),
)
@extend_schema(tags=["partners"])
class PartnerTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Partner types: five built in; tenant admins add (and delete unused) own types."""

    model = PartnerType
    serializer_class = PartnerTypeSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.TENANT_MANAGE
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "delete", "head", "options"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.order_by("name")

    @extend_schema(
        request=PartnerTypeSerializer,
        responses={201: PartnerTypeSerializer, **ERRORS},
        examples=[OpenApiExample("Own type", value={"name": "MVNO"}, request_only=True)],
    )
    def create(self, request: Request) -> Response:
        data = PartnerTypeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            created = services.partner_type_create(
                name=data.validated_data["name"], key=data.validated_data.get("key", "")
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(PartnerTypeSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **ERRORS}, examples=[NOT_FOUND_EXAMPLE])
    def destroy(self, request: Request, pk: int) -> Response:
        try:
            services.partner_type_delete(partner_type=self.get_object())
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(examples=[PARTNER_TIER_RESPONSE]),
    retrieve=extend_schema(examples=[PARTNER_TIER_RESPONSE]),
)
@extend_schema(tags=["partners"])
class PartnerTierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The tiers of the tenant's partner programme (tenant admins change them)."""

    model = PartnerTier
    serializer_class = PartnerTierSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.TENANT_MANAGE
    filter_backends: list[Any] = []

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.order_by("-rank", "name")

    @extend_schema(
        request=PartnerTierSerializer,
        responses={201: PartnerTierSerializer, **ERRORS},
        examples=[PARTNER_TIER_REQUEST, PARTNER_TIER_RESPONSE],
    )
    def create(self, request: Request) -> Response:
        data = PartnerTierSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            tier = services.partner_tier_create(**data.validated_data)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(PartnerTierSerializer(tier).data, status=status.HTTP_201_CREATED)

    def _update(self, request: Request, *, partial: bool) -> Response:
        tier = self.get_object()
        data = PartnerTierSerializer(tier, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = {"name": tier.name, "rank": tier.rank, **data.validated_data}
        try:
            services.partner_tier_update(tier=tier, **values)
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(PartnerTierSerializer(tier).data)

    @extend_schema(
        request=PartnerTierSerializer,
        responses={200: PartnerTierSerializer, **ERRORS},
        examples=[PARTNER_TIER_REQUEST, PARTNER_TIER_RESPONSE],
    )
    def update(self, request: Request, pk: int) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        request=PartnerTierSerializer,
        responses={200: PartnerTierSerializer, **ERRORS},
        examples=[
            OpenApiExample("Move up", value={"rank": 40}, request_only=True),
            OpenApiExample(
                "Moved up", value={**PARTNER_TIER_EXAMPLE, "rank": 40}, response_only=True
            ),
        ],
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        return self._update(request, partial=True)

    @extend_schema(responses={204: None, **ERRORS}, examples=[NOT_FOUND_EXAMPLE])
    def destroy(self, request: Request, pk: int) -> Response:
        services.partner_tier_delete(tier=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(examples=[TAG_RESPONSE]),
    retrieve=extend_schema(examples=[TAG_RESPONSE]),
)
@extend_schema(tags=["partners"])
class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Tags to group partners; partners take tag names, new names become tags."""

    model = Tag
    serializer_class = TagSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filter_backends: list[Any] = []

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.order_by("name")

    @extend_schema(
        request=TagSerializer,
        responses={201: TagSerializer, **ERRORS},
        examples=[
            OpenApiExample("Video", value={"name": "Video"}, request_only=True),
            TAG_RESPONSE,
        ],
    )
    def create(self, request: Request) -> Response:
        data = TagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            tag = services.tag_create(name=data.validated_data["name"])
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(examples=[CHANGE_REQUEST_RESPONSE]),
    retrieve=extend_schema(examples=[CHANGE_REQUEST_RESPONSE]),
)
@extend_schema(tags=["partners"])
class ChangeRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Partners' changes of company or bank details, waiting for the CSP's decision.

    Company changes are decided by partner managers and admins, bank changes by finance and
    admins (a role that may not decide gets 403).
    """

    model = ChangeRequest
    serializer_class = PartnerChangeRequestSerializer
    read_perm = Perm.PARTNERS_VIEW
    action_perms = {"approve": Perm.PARTNERS_VIEW, "reject": Perm.PARTNERS_VIEW}
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChangeRequestFilter

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.change_request_list()

    def _decide(self, request: Request, *, approve: bool) -> Response:
        change_request = self.get_object()
        data = ChangeRequestDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decide = services.change_request_approve if approve else services.change_request_reject
        try:
            decided = decide(
                change_request=change_request,
                actor=_user(request),
                actor_role=request_role(request),
                comment=data.validated_data["comment"],
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(self.get_serializer(decided).data)

    @extend_schema(
        summary="Approve and apply a change",
        request=ChangeRequestDecisionSerializer,
        responses={200: PartnerChangeRequestSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Comment",
                value={"comment": "Matches the commercial register."},
                request_only=True,
            ),
            OpenApiExample("Approved", value=CHANGE_REQUEST_APPROVED_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        summary="Reject a change (with a reason)",
        request=ChangeRequestDecisionSerializer,
        responses={200: PartnerChangeRequestSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Reason",
                value={"comment": "The IBAN does not match the company."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        return self._decide(request, approve=False)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("partners", PartnerViewSet, basename="partner")
router.register("partner-types", PartnerTypeViewSet, basename="partner-type")
router.register("partner-tiers", PartnerTierViewSet, basename="partner-tier")
router.register("tags", TagViewSet, basename="tag")
router.register("change-requests", ChangeRequestViewSet, basename="change-request")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path(
        "partners/<int:partner_pk>/contacts/",
        ContactViewSet.as_view({"get": "list", "post": "create"}),
        name="partner-contact-list",
    ),
    path(
        "partners/<int:partner_pk>/contacts/export/",
        ContactViewSet.as_view({"get": "export"}),
        name="partner-contact-export",
    ),
    path(
        "partners/<int:partner_pk>/contacts/<int:pk>/",
        ContactViewSet.as_view(
            {
                "get": "retrieve",
                "put": "update",
                "patch": "partial_update",
                "delete": "destroy",
            }
        ),
        name="partner-contact-detail",
    ),
    path(
        "partners/<int:partner_pk>/documents/",
        DocumentViewSet.as_view({"get": "list", "post": "create"}),
        name="partner-document-list",
    ),
    path(
        "partners/<int:partner_pk>/documents/export/",
        DocumentViewSet.as_view({"get": "export"}),
        name="partner-document-export",
    ),
    path(
        "partners/<int:partner_pk>/documents/<int:pk>/",
        DocumentViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="partner-document-detail",
    ),
    path(
        "partners/<int:partner_pk>/documents/<int:pk>/download/",
        DocumentViewSet.as_view({"get": "download"}),
        name="partner-document-download",
    ),
    path(
        "partners/<int:partner_pk>/bank-details/",
        BankDetailsViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="partner-bank-details",
    ),
]
