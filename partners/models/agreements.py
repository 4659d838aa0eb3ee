"""Agreements with partners, versioned: an amendment keeps the previous terms readable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from partnerhub.tenancy.models import TenantModel
from partners.models.registry import Document, Partner


class AgreementType(models.TextChoices):
    RESELLER = "reseller", "Reseller"
    REVENUE_SHARE = "revenue_share", "Revenue share"
    CONTENT_LICENCE = "content_licence", "Content licence"
    MANAGED_SERVICE = "managed_service", "Managed service"
    TOWER_LEASE = "tower_lease", "Tower lease"
    FIBRE_LEASE = "fibre_lease", "Fibre lease"
    TECHNOLOGY_SUPPLY = "technology_supply", "Technology supply"
    OTHER = "other", "Other"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_SIGNATURE = "pending_signature", "Pending signature"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


class ReviewCadence(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Every six months"
    ANNUAL = "annual", "Annually"


class Agreement(TenantModel):
    """The current terms of an agreement; earlier versions live in AgreementVersion."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="agreements")
    agreement_type = models.CharField(max_length=20, choices=AgreementType.choices)
    reference = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    auto_renew = models.BooleanField(default=False)
    notice_period_days = models.PositiveIntegerField(default=90)
    review_cadence = models.CharField(
        max_length=12, choices=ReviewCadence.choices, default=ReviewCadence.QUARTERLY
    )
    next_review_date = models.DateField(null=True, blank=True)
    terms = models.TextField(blank=True)
    signed_document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_by_partner_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "reference"]
        indexes = [
            models.Index(fields=["tenant", "end_date"], name="agreement_tenant_end"),
            models.Index(fields=["tenant", "next_review_date"], name="agreement_tenant_review"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="agreement_reference"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="agreement_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class AgreementVersion(TenantModel):
    """A frozen copy of an agreement's terms as they were before an amendment."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agreement", "number"], name="agreementversion_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} v{self.number}"


class AgreementReview(TenantModel):
    """A completed periodic review of an agreement; it sets the next review date by cadence."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    notes = models.TextField(blank=True)
    next_review_date = models.DateField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"Review of agreement {self.agreement_id} on {self.reviewed_on}"
