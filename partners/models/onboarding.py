"""Onboarding and offboarding: lifecycle transitions, checklists, risk assessments."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from partnerhub.tenancy.models import TenantModel
from partners.models.registry import Document, Partner, PartnerStatus, PartnerType, RiskLevel


class StatusTransition(TenantModel):
    """One move of a partner through its lifecycle: who, when, from, to, and why."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=PartnerStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=PartnerStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant", "partner", "at"], name="transition_partner_at")]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.from_status or '-'} → {self.to_status}"


class ChecklistKind(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    OFFBOARDING = "offboarding", "Offboarding"


class Party(models.TextChoices):
    CSP = "csp", "CSP staff"
    PARTNER = "partner", "Partner"
    EITHER = "either", "Either"


class Evidence(models.TextChoices):
    NONE = "none", "None"
    NOTE = "note", "A note"
    DOCUMENT = "document", "A document"


class ChecklistTemplateItem(TenantModel):
    """A step of a tenant's checklist for a partner type (or every type when type is empty)."""

    kind = models.CharField(max_length=12, choices=ChecklistKind.choices)
    partner_type = models.ForeignKey(
        PartnerType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    mandatory = models.BooleanField(default=True)
    completed_by = models.CharField(max_length=8, choices=Party.choices, default=Party.EITHER)
    evidence = models.CharField(max_length=10, choices=Evidence.choices, default=Evidence.NONE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "partner_type", "key"],
                name="checklisttemplateitem_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.title


class ChecklistStep(TenantModel):
    """A partner's copy of a checklist item, completed by CSP staff or the partner."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        WAIVED = "waived", "Waived"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="checklist")
    kind = models.CharField(max_length=12, choices=ChecklistKind.choices)
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    mandatory = models.BooleanField(default=True)
    completed_by_party = models.CharField(max_length=8, choices=Party.choices)
    evidence = models.CharField(max_length=10, choices=Evidence.choices, default=Evidence.NONE)
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    note = models.TextField(blank=True)
    document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "kind", "key"], name="checkliststep_key"
            )
        ]

    def __str__(self) -> str:
        return self.title


class RiskAssessment(TenantModel):
    """A scored due-diligence questionnaire; the latest one sets the partner's risk level."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="risk_assessments")
    answers = models.JSONField(help_text="Category -> score from 1 (low risk) to 5 (high risk).")
    score = models.DecimalField(max_digits=5, decimal_places=2)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    notes = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        return f"Risk {self.risk_level} for partner {self.partner_id}"
