"""The self-service portal: applications, partner users and invitations."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from partnerhub.tenancy.models import TenantModel
from partners.models.registry import Partner, PartnerType


class PartnerUser(TenantModel):
    """Binds a user with the ``partner`` role to exactly one partner of the tenant."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_links"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="users")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="partneruser_one_partner")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → partner {self.partner_id}"


class Application(TenantModel):
    """A 'become a partner' application, waiting for the applicant to confirm their email."""

    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2)
    website = models.URLField(blank=True)
    partner_type = models.ForeignKey(PartnerType, on_delete=models.PROTECT, related_name="+")
    offering = models.TextField()
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    token_digest = models.CharField(max_length=64, unique=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    partner = models.ForeignKey(
        Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.legal_name


class Invitation(TenantModel):
    """A partner user's invitation of a colleague to the same partner."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email}"
