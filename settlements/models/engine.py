"""Revenue-share plans (versioned), their assignment to agreements, runs and statements."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from partnerhub.tenancy.models import TenantModel
from partners.models import Agreement, Partner


class RevenueSharePlan(TenantModel):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="plan_name")]

    def __str__(self) -> str:
        return self.name


class RevenueSharePlanVersion(TenantModel):
    """The plan's content as validated JSON; a new version never changes past statements."""

    plan = models.ForeignKey(RevenueSharePlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    currency = models.CharField(max_length=3)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plan", "number"], name="planversion_number")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.number}"


class PlanAssignment(TenantModel):
    """Which plan an agreement settles under, from a date (and optionally until one)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="plan_assignments"
    )
    plan = models.ForeignKey(RevenueSharePlan, on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["agreement", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.agreement_id} → plan {self.plan_id}"


class SettlementRun(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    month = models.DateField(help_text="First day of the settled month.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    is_close = models.BooleanField(default=False, help_text="Closed month (vs. open accrual).")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    fx_rates = models.JSONField(
        default=dict, blank=True, help_text='{"YYYY-MM-DD": {"USD/EUR": "0.92"}}: rates used.'
    )
    unsettled = models.JSONField(
        default=list, blank=True, help_text="Usage not settled, by reason, partner and currency."
    )
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "-created_at"]
        constraints = [
            # One run at a time per tenant and month: the database refuses a second active one.
            models.UniqueConstraint(
                fields=["tenant", "month"],
                condition=Q(status__in=["queued", "running"]),
                name="settlementrun_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"Run {self.month:%Y-%m} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.chunks_total:
            return 100 if self.status == self.Status.DONE else 0
        return int(100 * self.chunks_done / self.chunks_total)


class SettlementRunChunk(TenantModel):
    """A chunk of partners of a run, computed by one task; ``done`` makes redelivery harmless."""

    run = models.ForeignKey(SettlementRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    partner_ids = ArrayField(models.BigIntegerField())
    done = models.BooleanField(default=False)
    unsettled = models.JSONField(default=list, blank=True)
    fx_days = models.JSONField(
        default=list, blank=True, help_text='[["YYYY-MM-DD", "USD"], ...]: days of the usage read.'
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "run", "index"], name="runchunk_index")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index}"


class Statement(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        DISPUTED = "disputed", "Disputed"

    # The references of a run's statements and lines are checked once per row, at commit, by
    # the composite (tenant_id, <fk>) foreign keys partnerhub.tenancy.rls adds: they imply the
    # plain one (the row exists, and in the same tenant), so the plain constraint is left out
    # (db_constraint=False) instead of checking every reference twice (0.1 s per 1,000
    # statements, docs/settlement.md).
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="statements", db_constraint=False
    )
    month = models.DateField()
    run = models.ForeignKey(
        SettlementRun, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )
    plan_version = models.ForeignKey(
        RevenueSharePlanVersion, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    currency = models.CharField(max_length=3)
    direction = models.CharField(max_length=10)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    basis_total = models.DecimalField(max_digits=20, decimal_places=4)
    partner_share = models.DecimalField(max_digits=20, decimal_places=4)
    csp_share = models.DecimalField(max_digits=20, decimal_places=4)
    content_hash = models.CharField(max_length=64, blank=True)
    # Settlement key: the usage imports (0 = rows without one) whose rows of this partner and
    # month this statement settled, and those of earlier frozen months settled here as late usage.
    covered_imports = ArrayField(models.BigIntegerField(), default=list, blank=True)
    late_imports = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Lifecycle (settlements.services.statements): the database refuses changes to the content
    # of a statement that is no longer a draft (trigger of migration 0005).
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_date = models.DateField(null=True, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-month", "partner"]
        indexes = [models.Index(fields=["tenant", "month", "status"], name="statement_month")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "month"], name="statement_partner_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.month:%Y-%m} {self.partner_share} {self.currency}"

    @property
    def is_frozen(self) -> bool:
        """Approved, disputed or paid: its content can no longer change."""
        return self.status != self.Status.DRAFT


class StatementLine(TenantModel):
    class Kind(models.TextChoices):
        RULE = "rule", "Rule"
        KPI_ADJUSTMENT = "kpi_adjustment", "KPI adjustment"
        MINIMUM_GUARANTEE = "minimum_guarantee", "Minimum guarantee top-up"
        CAP = "cap", "Cap reduction"
        LATE_USAGE = "late_usage", "Late usage"
        ADJUSTMENT = "adjustment", "Manual adjustment"

    # Checked by the composite (tenant_id, statement_id) key only, like Statement's references.
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", db_constraint=False
    )
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    product_code = models.CharField(max_length=60, blank=True)
    description = models.CharField(max_length=300)
    basis_amount = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    record_count = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=4)
    trace = models.JSONField(default=dict, help_text="Rule, tiers, FX rates used, sums.")

    class Meta:
        ordering = ["statement", "position"]

    def __str__(self) -> str:
        return self.description
