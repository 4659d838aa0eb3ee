"""The partner registry: partners, their types, tiers, tags, contacts, bank details, documents."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from partnerhub.tenancy.models import TenantModel

country_validator = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166 alpha-2 country code, e.g. DE.")


class PartnerStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    VETTING = "vetting", "Vetting"
    DUE_DILIGENCE = "due_diligence", "Due diligence"
    CONTRACTING = "contracting", "Contracting"
    INTEGRATION = "integration", "Integration"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"
    OFFBOARDING = "offboarding", "Offboarding"
    EXITED = "exited", "Exited"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ProgramSettings(TenantModel):
    """A tenant's partner-programme settings (one row per tenant)."""

    quiet_after_days = models.PositiveIntegerField(
        default=14, help_text="A partner with no interaction for longer is flagged as quiet."
    )
    reminder_window_days = models.PositiveIntegerField(
        default=30, help_text="Remind this many days before an agreement ends or needs review."
    )
    max_upload_mb = models.PositiveIntegerField(default=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="programsettings_one")]

    def __str__(self) -> str:
        return f"Programme settings of tenant {self.tenant_id}"


class PartnerType(TenantModel):
    """Technology vendor, reseller, ...: five built in, tenants may add their own."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    is_builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="partnertype_key")]

    def __str__(self) -> str:
        return self.name


class PartnerTier(TenantModel):
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(default=0, help_text="Higher is better.")

    class Meta:
        ordering = ["-rank", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="partnertier_name")]

    def __str__(self) -> str:
        return self.name


class Tag(TenantModel):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_name")]

    def __str__(self) -> str:
        return self.name


class Partner(TenantModel):
    """A company the CSP works with, from application to exit."""

    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    registration_number = models.CharField(max_length=64, blank=True)
    tax_id = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, validators=[country_validator])
    website = models.URLField(blank=True)
    offering = models.TextField(blank=True, help_text="What the partner offers.")
    partner_type = models.ForeignKey(PartnerType, on_delete=models.PROTECT, related_name="+")
    tier = models.ForeignKey(
        PartnerTier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="subsidiaries"
    )
    account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        max_length=20, choices=PartnerStatus.choices, default=PartnerStatus.APPLIED
    )
    status_changed_at = models.DateTimeField(auto_now_add=True)
    rejection_reason = models.TextField(blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    last_contact_on = models.DateField(null=True, blank=True)
    tags: models.ManyToManyField[Tag, PartnerTag] = models.ManyToManyField(
        Tag, through="PartnerTag", related_name="partners", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_name"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="partner_tenant_status"),
            models.Index(fields=["tenant", "partner_type"], name="partner_tenant_type"),
            models.Index(fields=["tenant", "last_contact_on"], name="partner_tenant_contact"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "legal_name"], name="partner_legal_name"),
        ]

    def __str__(self) -> str:
        return self.trading_name or self.legal_name

    @property
    def display_name(self) -> str:
        return str(self)


class PartnerTag(TenantModel):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "partner", "tag"], name="partnertag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.tag_id}"


class Contact(TenantModel):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner"],
                condition=Q(is_primary=True),
                name="contact_one_primary",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BankDetails(TenantModel):
    """Where the CSP pays the partner. Changing it needs finance or admin and is audited
    (the account number is masked in the trail)."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="bank_details")
    account_holder = models.CharField(max_length=200)
    iban = models.CharField(max_length=34)
    swift_bic = models.CharField(max_length=11, blank=True)
    bank_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.bank_name or 'Bank'} {self.masked_iban}"

    @property
    def masked_iban(self) -> str:
        return f"{self.iban[:4]}{'•' * 4}{self.iban[-4:]}" if len(self.iban) > 8 else "••••"


class DocumentType(models.TextChoices):
    COMPANY_REGISTRATION = "company_registration", "Company registration"
    TAX_FORM = "tax_form", "Tax form"
    CONTENT_LICENCE = "content_licence", "Content licence"
    INSURANCE = "insurance", "Insurance certificate"
    CERTIFICATION = "certification", "Certification"
    CONTRACT = "contract", "Signed contract"
    EVIDENCE = "evidence", "Evidence"
    OTHER = "other", "Other"


def document_path(instance: Document, filename: str) -> str:
    # Never the uploader's name on disk: a random name under the tenant's and partner's folder.
    return f"tenants/{instance.tenant_id}/partners/{instance.partner_id}/{uuid.uuid4().hex}"


class Document(TenantModel):
    """An uploaded file of a partner, checked by content, served only to who may see it."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.CharField(max_length=30, choices=DocumentType.choices)
    title = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=document_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["tenant", "expires_on"], name="document_tenant_expiry")]

    def __str__(self) -> str:
        return self.title or self.original_name


class ChangeRequest(TenantModel):
    """A partner's change to its company or bank details, waiting for CSP approval."""

    class Kind(models.TextChoices):
        COMPANY = "company", "Company details"
        BANK = "bank", "Bank details"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="change_requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} change for partner {self.partner_id}"
