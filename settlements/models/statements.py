"""Statement lifecycle data: the tenant's approval policy, manual adjustments and the link of
a partner's dispute (``partners.Dispute``) to the statement or line it is about."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from partnerhub.tenancy.models import TenantModel
from partners.models import Dispute, Partner
from settlements.models.engine import Statement, StatementLine


class SettlementPolicy(TenantModel):
    """Per-tenant settlement settings; a tenant without a row has the defaults."""

    four_eyes_approval = models.BooleanField(
        default=False,
        help_text="The approver of a statement may not be the last editor of a manual "
        "adjustment settled in it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "settlement policies"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="settlementpolicy_tenant")]

    def __str__(self) -> str:
        return f"Settlement policy of tenant {self.tenant_id}"


class StatementAdjustment(TenantModel):
    """A manual correction, never an edit of history: the next settlement run of the partner
    settles it as an ``adjustment`` line of its next open (draft) statement (``settled_in``).

    ``amount`` is signed in the statement's sense: positive raises the partner share.
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=20, decimal_places=4)
    reason = models.CharField(max_length=300)
    corrects_statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        help_text="The (approved) statement this adjustment corrects.",
    )
    corrects_line = models.ForeignKey(
        StatementLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispute = models.ForeignKey(
        Dispute, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_in = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        help_text="The statement whose adjustment line settles this (set by the run).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "partner"], name="adjustment_partner")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="adjustment_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"Adjustment {self.amount} {self.currency} ({self.reason[:40]})"


class StatementDispute(TenantModel):
    """Which statement (and optionally which line) a settlement dispute is about; kept here so
    the partners app needs nothing from settlements."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="+")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="disputes")
    line = models.ForeignKey(
        StatementLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dispute {self.dispute_id} on statement {self.statement_id}"
