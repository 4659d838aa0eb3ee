"""Reads of the partner registry: scoped by the tenant manager, related rows fetched once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters.widgets import BooleanWidget

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.tenancy.context import require_current_tenant
from partners.models import (
    BankDetails,
    ChangeRequest,
    Contact,
    Document,
    DocumentType,
    Partner,
    PartnerTier,
    PartnerType,
    ProgramSettings,
    Tag,
)

CSP_ROLES = [Role.ADMIN, Role.PARTNER_MANAGER, Role.FINANCE, Role.VIEWER]


def program_settings_get() -> ProgramSettings:
    """The tenant's programme settings; the defaults (unsaved) until an admin saves them."""
    return ProgramSettings.objects.first() or ProgramSettings(tenant=require_current_tenant())


def partner_list() -> QuerySet[Partner]:
    """Partners with what list pages, the API and exports show, in a fixed number of queries."""
    return Partner.objects.select_related(
        "partner_type", "tier", "account_owner", "parent", "bank_details"
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


PARTNER_LIST_COLUMNS = (
    "legal_name",
    "trading_name",
    "status",
    "country",
    "last_contact_on",
    "partner_type__name",
    "tier__name",
    "account_owner__full_name",
    "account_owner__email",
)


def partner_list_rows(*, ids: list[int]) -> list[Partner]:
    """The partner list page's rows, in the order of ``ids``, in one query: the columns the page
    shows (``PARTNER_LIST_COLUMNS``, the tags' names as ``tag_names``), not the bank details,
    parent and long texts the detail page and exports read."""
    rows = (
        Partner.objects.select_related("partner_type", "tier", "account_owner")
        .only(*PARTNER_LIST_COLUMNS)
        .annotate(
            tag_names=ArrayAgg(
                "tags__name", order_by="tags__name", filter=Q(tags__isnull=False), default=[]
            )
        )
        .in_bulk(ids)
    )
    return [rows[pk] for pk in ids if pk in rows]


def partner_get(*, pk: int) -> Partner:
    """One partner of the active tenant (404 for a missing or foreign id)."""
    return get_object_or_404(partner_list(), pk=pk)


def partner_contacts(*, partner: Partner) -> QuerySet[Contact]:
    return Contact.objects.filter(partner=partner).order_by("-is_primary", "name", "id")


def partner_documents(*, partner: Partner) -> QuerySet[Document]:
    return (
        Document.objects.filter(partner=partner)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


class ContactFilter(django_filters.FilterSet):
    """Filters of a partner's contacts: its page panel, the API and the export alike."""

    search = django_filters.CharFilter(
        method="filter_search", label="Search", help_text="Part of the name or email address."
    )
    role = django_filters.CharFilter(
        field_name="role", lookup_expr="icontains", label="Role", help_text="Part of the role."
    )
    # true/false or 1/0, as the API's own boolean filters read them.
    is_primary = django_filters.BooleanFilter(label="Primary contact", widget=BooleanWidget())

    class Meta:
        model = Contact
        fields = ["search", "role", "is_primary"]

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


CONTACT_EXPORT_COLUMNS = ["ID", "Name", "Role", "Email", "Phone", "Primary"]


def contact_export_rows(contacts: QuerySet[Contact]) -> Iterator[tuple[Any, ...]]:
    """One row per contact of an already filtered ``partner_contacts()`` (no bank details)."""
    for c in contacts:
        yield (c.pk, c.name, c.role, c.email, c.phone, "yes" if c.is_primary else "no")


class DocumentExpiry(models.TextChoices):
    EXPIRED = "expired", "Expired"
    EXPIRING = "expiring", "Expiring within the window"
    VALID = "valid", "Valid beyond the window, or no expiry"


class DocumentFilter(django_filters.FilterSet):
    """Filters of a partner's documents: its page panel, the API and the export alike.

    ``expiry`` splits the documents in three: expired (before today), expiring (today up to
    ``within_days`` ahead, by default the programme's reminder window) and valid (later, or
    no expiry date).
    """

    doc_type = django_filters.ChoiceFilter(
        choices=DocumentType.choices, label="Type", empty_label="All types"
    )
    expiry = django_filters.ChoiceFilter(
        choices=DocumentExpiry.choices,
        method="filter_expiry",
        label="Expiry",
        empty_label="Any expiry",
    )
    within_days = django_filters.NumberFilter(
        method="filter_within_days",
        label="Window (days)",
        min_value=1,
        max_value=3650,
        help_text="The expiry window in days; the programme's reminder window when empty.",
    )
    search = django_filters.CharFilter(
        method="filter_search", label="Search", help_text="Part of the title or file name."
    )

    class Meta:
        model = Document
        fields = ["doc_type", "expiry", "within_days", "search"]

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(original_name__icontains=value))

    def filter_within_days(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset  # read by filter_expiry: a window alone filters nothing

    def filter_expiry(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        today = timezone.localdate()
        if value == DocumentExpiry.EXPIRED:
            return queryset.filter(expires_on__lt=today)
        days = self.form.cleaned_data.get("within_days")
        window_end = today + timedelta(
            days=int(days) if days else program_settings_get().reminder_window_days
        )
        if value == DocumentExpiry.EXPIRING:
            return queryset.filter(expires_on__gte=today, expires_on__lte=window_end)
        if value == DocumentExpiry.VALID:
            return queryset.filter(Q(expires_on__gt=window_end) | Q(expires_on__isnull=True))
        return queryset


DOCUMENT_EXPORT_COLUMNS = [
    "ID",
    "Title",
    "Type",
    "File name",
    "Content type",
    "Size (bytes)",
    "SHA-256",
    "Issued",
    "Expires",
    "Uploaded by",
    "Uploaded at",
]


def document_export_rows(documents: QuerySet[Document]) -> Iterator[tuple[Any, ...]]:
    """One row per document of an already filtered ``partner_documents()``: its metadata,
    never its contents nor where it is stored."""
    for d in documents:
        yield (
            d.pk,
            d.title,
            d.get_doc_type_display(),
            d.original_name,
            d.content_type,
            d.size,
            d.sha256,
            d.issued_on,
            d.expires_on,
            d.uploaded_by.email if d.uploaded_by else "",
            d.uploaded_at,
        )


def partner_bank_details(*, partner: Partner) -> BankDetails | None:
    return BankDetails.objects.filter(partner=partner).first()


def change_request_list() -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.select_related("partner", "requested_by", "decided_by").order_by(
        "-requested_at", "-id"
    )


def partner_pending_change_requests(*, partner: Partner) -> QuerySet[ChangeRequest]:
    return change_request_list().filter(partner=partner, status=ChangeRequest.Status.PENDING)


def partner_audit_trail(*, partner: Partner, limit: int = 50) -> list[AuditEntry]:
    """The latest audit entries of the partner and of its contacts, bank details, documents
    and change requests, deleted ones included (their "create" entry names the partner)."""
    content_types = ContentType.objects.get_for_models(
        Partner, Contact, BankDetails, Document, ChangeRequest
    )
    children = {
        Contact: Contact.objects.filter(partner=partner),
        BankDetails: BankDetails.objects.filter(partner=partner),
        Document: Document.objects.filter(partner=partner),
        ChangeRequest: ChangeRequest.objects.filter(partner=partner),
    }
    object_pks: dict[int, set[str]] = {content_types[m].pk: set() for m in children}
    for model, rows in children.items():
        object_pks[content_types[model].pk].update(
            str(pk) for pk in rows.values_list("pk", flat=True)
        )
    created = AuditEntry.objects.filter(
        content_type_id__in=list(object_pks),
        action=AuditEntry.Action.CREATE,
        changes__partner__1=str(partner.pk),
    ).values_list("content_type_id", "object_pk")
    for content_type_id, object_pk in created:
        object_pks[content_type_id].add(object_pk)
    condition = Q(content_type=content_types[Partner], object_pk=str(partner.pk))
    for content_type_id, pks in object_pks.items():
        if pks:
            condition |= Q(content_type_id=content_type_id, object_pk__in=pks)
    return list(
        AuditEntry.objects.filter(condition)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-id")[:limit]
    )


def document_get(*, pk: int) -> Document:
    """A document of the active tenant, for CSP staff (404 for a missing or foreign id)."""
    return get_object_or_404(Document.objects.select_related("partner"), pk=pk)


def staff_users() -> QuerySet[User]:
    """CSP staff of the active tenant: who can own a partner account."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__tenant=require_current_tenant(),
            memberships__role__in=CSP_ROLES,
        )
        .distinct()
        .order_by("full_name", "email")
    )


class OwnedPartnerFilterSet(django_filters.FilterSet):
    """Base of partner lists with a ``mine`` filter: only partners the requesting user owns."""

    def filter_mine(
        self, queryset: QuerySet[Partner], name: str, value: bool | None
    ) -> QuerySet[Partner]:
        if not value or self.request is None:
            return queryset
        return queryset.filter(account_owner_id=self.request.user.pk)


def _partner_count(field: str) -> Coalesce:
    counts = (
        Partner.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def partner_type_list() -> QuerySet[PartnerType]:
    """Types with how many partners use each (a used type cannot be deleted)."""
    return PartnerType.objects.annotate(partner_count=_partner_count("partner_type")).order_by(
        "name"
    )


def partner_tier_list() -> QuerySet[PartnerTier]:
    return PartnerTier.objects.annotate(partner_count=_partner_count("tier")).order_by(
        "-rank", "name"
    )


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


PARTNER_EXPORT_COLUMNS = [
    "ID",
    "Legal name",
    "Trading name",
    "Type",
    "Tier",
    "Status",
    "Country",
    "Registration number",
    "Tax id",
    "Website",
    "Parent",
    "Account owner",
    "Risk level",
    "Last contact",
    "Tags",
    "Created",
]


def partner_export_rows(partners: QuerySet[Partner]) -> Iterator[tuple[Any, ...]]:
    """One row per partner of an already filtered ``partner_list()`` (no bank details)."""
    for p in partners:
        yield (
            p.pk,
            p.legal_name,
            p.trading_name,
            p.partner_type.name,
            p.tier.name if p.tier else "",
            p.get_status_display(),
            p.country,
            p.registration_number,
            p.tax_id,
            p.website,
            p.parent.legal_name if p.parent else "",
            p.account_owner.email if p.account_owner else "",
            p.get_risk_level_display() if p.risk_level else "",
            p.last_contact_on,
            ", ".join(t.name for t in p.tags.all()),
            p.created_at,
        )
