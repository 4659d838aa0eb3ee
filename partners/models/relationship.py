"""Relationship management: interactions, disputes, notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from partnerhub.tenancy.models import TenantModel
from partners.models.agreements import Agreement
from partners.models.registry import Document, Partner


class Interaction(TenantModel):
    class Kind(models.TextChoices):
        MEETING = "meeting", "Meeting"
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        QBR = "qbr", "Quarterly business review"
        VISIT = "visit", "Site visit"
        OTHER = "other", "Other"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_on = models.DateField()
    subject = models.CharField(max_length=200)
    participants = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    follow_up_on = models.DateField(null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["tenant", "partner", "-occurred_on"], name="interaction_partner")
        ]

    def __str__(self) -> str:
        return self.subject


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"


class Dispute(TenantModel):
    """A case raised by CSP staff or the partner; timestamps give the time per stage."""

    class Category(models.TextChoices):
        BILLING = "billing", "Billing"
        SETTLEMENT = "settlement", "Settlement"
        KPI = "kpi", "KPI measurement"
        CONTRACT = "contract", "Contract"
        SERVICE = "service", "Service quality"
        OTHER = "other", "Other"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="disputes")
    category = models.CharField(max_length=12, choices=Category.choices)
    title = models.CharField(max_length=200)
    description = models.TextField()
    agreement = models.ForeignKey(
        Agreement, on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=14, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    raised_by_partner = models.BooleanField(default=False)
    resolution = models.TextField(blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    investigating_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status"], name="dispute_tenant_status")]

    def __str__(self) -> str:
        return self.title


class DisputeComment(TenantModel):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_partner = models.BooleanField(default=False)
    body = models.TextField()
    attachment = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on dispute {self.dispute_id}"


class Notification(TenantModel):
    """An in-app notification or task for a user; ``dedup_key`` makes reminders idempotent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    dedup_key = models.CharField(max_length=200)
    is_task = models.BooleanField(default=False)
    due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user", "read_at"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "dedup_key"], name="notification_dedup"
            )
        ]

    def __str__(self) -> str:
        return self.title
