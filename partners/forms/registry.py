"""Forms and the partner filter of the registry (the filter serves pages, API and exports)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from partnerhub.accounts.models import User
from partnerhub.core.forms import read_choices_once
from partners.models import (
    DocumentType,
    Partner,
    PartnerStatus,
    PartnerTier,
    PartnerType,
    Tag,
)
from partners.models.registry import country_validator
from partners.selectors.registry import staff_users
from partners.services.registry import PROGRAM_SETTING_BOUNDS

# Querysets are built per request (callables): at import time no tenant is active.


def _types(request: Any) -> QuerySet[PartnerType]:
    return PartnerType.objects.order_by("name")


def _tiers(request: Any) -> QuerySet[PartnerTier]:
    return PartnerTier.objects.order_by("-rank", "name")


def _tags(request: Any) -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


def _owners(request: Any) -> QuerySet[Any]:
    return staff_users()


class PartnerFilter(django_filters.FilterSet):
    """Search, filters and ordering of the partner list (page, API and exports alike)."""

    search = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Part of the legal or trading name, registration number or tax id.",
    )
    partner_type = django_filters.ModelChoiceFilter(
        queryset=_types, label="Type", empty_label="All types"
    )
    tier = django_filters.ModelChoiceFilter(queryset=_tiers, label="Tier", empty_label="All tiers")
    status = django_filters.ChoiceFilter(
        choices=PartnerStatus.choices, label="Status", empty_label="All statuses"
    )
    account_owner = django_filters.ModelChoiceFilter(
        queryset=_owners, label="Owner", empty_label="All owners"
    )
    country = django_filters.CharFilter(
        method="filter_country", label="Country", help_text="ISO 3166 alpha-2 code, e.g. DE."
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags", queryset=_tags, label="Tag", empty_label="All tags"
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("legal_name", "name"),
            ("status", "status"),
            ("country", "country"),
            ("partner_type__name", "type"),
            ("tier__rank", "tier"),
            ("last_contact_on", "last_contact"),
            ("created_at", "created"),
            ("updated_at", "updated"),
        ),
        label="Order by",
        help_text="name, type, tier, status, country, last_contact, created, updated; "
        "prefix with - for descending.",
    )

    class Meta:
        model = Partner
        fields = [
            "search",
            "partner_type",
            "tier",
            "status",
            "account_owner",
            "country",
            "tag",
            "ordering",
        ]

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(legal_name__icontains=value)
            | Q(trading_name__icontains=value)
            | Q(registration_number__icontains=value)
            | Q(tax_id__icontains=value)
        )

    def filter_country(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip().upper()
        return queryset.filter(country=value) if value else queryset

    @property
    def form(self) -> Any:
        # The page renders four <select>s of these: one query each.
        return read_choices_once(super().form)

    @property
    def qs(self) -> QuerySet[Any]:
        queryset = super().qs
        # Ties (and the unordered default) fall back to the name, then the id: stable pages.
        if not queryset.query.order_by:
            return queryset.order_by("legal_name", "pk")
        return queryset.order_by(*queryset.query.order_by, "pk")


class TagsField(forms.CharField):
    """Comma-separated tag names."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        names = [" ".join(part.split()) for part in text.split(",")]
        return [name for name in names if name]

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value


class CountryField(forms.CharField):
    """An ISO 3166 alpha-2 code; lower case is accepted and stored upper case."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value) or "").strip().upper()


class PartnerForm(forms.Form):
    legal_name = forms.CharField(max_length=200)
    trading_name = forms.CharField(max_length=200, required=False)
    partner_type = forms.ModelChoiceField(queryset=PartnerType.objects.none(), label="Type")
    tier = forms.ModelChoiceField(
        queryset=PartnerTier.objects.none(), required=False, empty_label="No tier"
    )
    country = CountryField(
        max_length=2,
        validators=[country_validator],
        help_text="ISO 3166 alpha-2 code, e.g. DE.",
    )
    registration_number = forms.CharField(max_length=64, required=False)
    tax_id = forms.CharField(max_length=64, required=False, label="Tax id")
    website = forms.URLField(required=False, assume_scheme="https")
    offering = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    parent = forms.ModelChoiceField(
        queryset=Partner.objects.none(),
        required=False,
        label="Parent partner",
        empty_label="None (independent)",
    )
    account_owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Nobody yet"
    )
    tags = TagsField(required=False, help_text="Comma-separated, e.g. 5G, IoT, Strategic.")

    def __init__(self, *args: Any, instance: Partner | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(instance, f) for f in ("legal_name", "trading_name", "country")},
                **{
                    f: getattr(instance, f)
                    for f in ("registration_number", "tax_id", "website", "offering")
                },
                "partner_type": instance.partner_type_id,
                "tier": instance.tier_id,
                "parent": instance.parent_id,
                "account_owner": instance.account_owner_id,
                "tags": [t.name for t in instance.tags.all()],
            }
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["partner_type"].queryset = _types(None)
        fields["tier"].queryset = _tiers(None)
        parents = Partner.objects.order_by("legal_name")
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        fields["parent"].queryset = parents
        fields["account_owner"].queryset = staff_users()
        fields["account_owner"].label_from_instance = lambda user: (
            f"{user.full_name} ({user.email})" if user.full_name else user.email
        )


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.CharField(max_length=100, required=False, help_text="e.g. Head of partnerships")
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    is_primary = forms.BooleanField(required=False, label="Primary contact")


class BankDetailsForm(forms.Form):
    account_holder = forms.CharField(max_length=200)
    iban = forms.CharField(max_length=42, label="IBAN")
    swift_bic = forms.CharField(max_length=14, required=False, label="SWIFT/BIC")
    bank_name = forms.CharField(max_length=200, required=False)
    currency = forms.CharField(max_length=3, initial="EUR", help_text="ISO 4217 code.")


class DocumentUploadForm(forms.Form):
    file = forms.FileField(help_text="PDF, PNG, JPEG, XLSX or CSV; the content is checked.")
    doc_type = forms.ChoiceField(choices=DocumentType.choices, label="Document type")
    title = forms.CharField(max_length=200, required=False)
    issued_on = forms.DateField(required=False, label="Issued on")
    expires_on = forms.DateField(required=False, label="Expires on")


class PartnerTypeForm(forms.Form):
    name = forms.CharField(max_length=100, label="Type name")


class PartnerTierForm(forms.Form):
    name = forms.CharField(max_length=50, label="Tier name")
    rank = forms.IntegerField(
        min_value=0, max_value=100, initial=0, required=False, help_text="Higher is better."
    )


class ProgramSettingsForm(forms.Form):
    """The tenant's programme settings (admins); bounds as in ``program_settings_update``."""

    quiet_after_days = forms.IntegerField(
        label="Quiet after (days)",
        min_value=PROGRAM_SETTING_BOUNDS["quiet_after_days"][0],
        max_value=PROGRAM_SETTING_BOUNDS["quiet_after_days"][1],
        help_text="An active partner with no interaction for longer is flagged as quiet.",
    )
    reminder_window_days = forms.IntegerField(
        label="Reminder window (days)",
        min_value=PROGRAM_SETTING_BOUNDS["reminder_window_days"][0],
        max_value=PROGRAM_SETTING_BOUNDS["reminder_window_days"][1],
        help_text="Daily reminders for agreements that end or need review within this window.",
    )
    max_upload_mb = forms.IntegerField(
        label="Upload limit (MB)",
        min_value=PROGRAM_SETTING_BOUNDS["max_upload_mb"][0],
        max_value=PROGRAM_SETTING_BOUNDS["max_upload_mb"][1],
        help_text="Largest document a partner or your staff may upload.",
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
