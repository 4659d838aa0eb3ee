"""KPIs: definitions, targets that change over time, daily measurements, drift alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from partnerhub.tenancy.models import TenantModel
from partners.models import Agreement, Partner, PartnerTier, PartnerType


class Unit(models.TextChoices):
    COUNT = "count", "Count"
    CURRENCY = "currency", "Currency amount"
    PERCENT = "percent", "Percent"
    MINUTES = "minutes", "Minutes"
    RATIO = "ratio", "Ratio"
    SCORE = "score", "Score"


class Direction(models.TextChoices):
    HIGHER_BETTER = "higher_better", "Higher is better"
    LOWER_BETTER = "lower_better", "Lower is better"
    WITHIN_BAND = "within_band", "Within a band"


class Aggregation(models.TextChoices):
    SUM = "sum", "Sum over the period"
    MEAN = "mean", "Mean of the daily values"
    LAST = "last", "Last value in the period"
    RATIO = "ratio", "Ratio of two other KPIs"


class Source(models.TextChoices):
    MANUAL = "manual", "Entered in the UI"
    API_CSV = "api_csv", "API or CSV upload"
    SETTLEMENT = "settlement", "Computed from settlement usage"


class SettlementMeasure(models.TextChoices):
    GROSS_AMOUNT = "gross_amount", "Gross amount (in the KPI's currency)"
    NET_AMOUNT = "net_amount", "Amount net of tax (in the KPI's currency)"
    QUANTITY = "quantity", "Quantity"
    RECORDS = "records", "Number of usage records"
    # From the partner's statement history (approved and paid statements), one value a month.
    STATEMENT_PARTNER_SHARE = (
        "statement_partner_share",
        "Partner share of approved and paid statements (monthly, in the KPI's currency)",
    )
    STATEMENT_BASIS = (
        "statement_basis",
        "Settled basis of approved and paid statements (monthly, in the KPI's currency)",
    )


STATEMENT_MEASURES = (SettlementMeasure.STATEMENT_PARTNER_SHARE, SettlementMeasure.STATEMENT_BASIS)


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class DriftMethod(models.TextChoices):
    CUSUM = "cusum", "CUSUM"
    EWMA = "ewma", "EWMA"


class KpiDefinition(TenantModel):
    """What is measured, how a period is aggregated, how it is judged, how drift is watched."""

    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    currency = models.CharField(max_length=3, blank=True, help_text="For currency KPIs.")
    direction = models.CharField(max_length=14, choices=Direction.choices)
    band_low = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    band_high = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    aggregation = models.CharField(max_length=6, choices=Aggregation.choices)
    numerator = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    denominator = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scale = models.DecimalField(
        max_digits=12, decimal_places=4, default=1, help_text="Ratio multiplier, e.g. 1000."
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API_CSV)
    settlement_measure = models.CharField(
        max_length=30,
        choices=SettlementMeasure.choices,
        blank=True,
        help_text="For KPIs computed from settlement usage: what a day's records add up to, "
        "or a month's approved and paid statements.",
    )
    settlement_product_code = models.CharField(
        max_length=60,
        blank=True,
        help_text="For KPIs computed from settlement usage: one product code (empty: all).",
    )
    partner_reported = models.BooleanField(
        default=False, help_text="Partners may report it themselves in the portal."
    )
    amber_below = models.DecimalField(
        max_digits=6, decimal_places=2, default=100, help_text="Attainment % below this: amber."
    )
    red_below = models.DecimalField(
        max_digits=6, decimal_places=2, default=90, help_text="Attainment % below this: red."
    )
    drift_enabled = models.BooleanField(default=True)
    drift_method = models.CharField(
        max_length=5, choices=DriftMethod.choices, default=DriftMethod.CUSUM
    )
    drift_sensitivity = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=5,
        help_text="Decision threshold in baseline standard deviations (higher: fewer alerts).",
    )
    drift_min_history_days = models.PositiveSmallIntegerField(default=28)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="kpidefinition_key"),
            models.CheckConstraint(
                condition=~Q(aggregation="ratio")
                | (Q(numerator__isnull=False) & Q(denominator__isnull=False)),
                name="kpidefinition_ratio_operands",
            ),
            models.CheckConstraint(
                condition=~Q(source="settlement") | ~Q(settlement_measure=""),
                name="kpidefinition_settlement_measure",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ratio_accumulates(self) -> bool:
        """A ratio whose numerator is summed over the period and denominator is not (complaints
        per 1,000 subscribers, ARPU): its period value is about the daily ratio times the days,
        so a daily value compares with a target only after scaling by the period's length."""
        return (
            self.aggregation == Aggregation.RATIO
            and self.numerator is not None
            and self.denominator is not None
            and self.numerator.aggregation == Aggregation.SUM
            and self.denominator.aggregation != Aggregation.SUM
        )


class KpiTarget(TenantModel):
    """A target for a KPI, for one partner, a partner type, a tier, or everyone (all empty).

    Targets are never rewritten: a change closes the current row (``effective_to``) and adds a
    new one, so every past period can be judged as it was then. A partner's own target wins
    over its tier's, which wins over its type's, which wins over the tenant default.
    """

    kpi = models.ForeignKey(KpiDefinition, on_delete=models.CASCADE, related_name="targets")
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="kpi_targets"
    )
    partner_type = models.ForeignKey(
        PartnerType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    tier = models.ForeignKey(
        PartnerTier, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.SET_NULL, null=True, blank=True, related_name="kpi_targets"
    )
    period_kind = models.CharField(
        max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    value = models.DecimalField(max_digits=20, decimal_places=6)
    weight = models.DecimalField(max_digits=6, decimal_places=3, default=1)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty = open.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kpi", "-effective_from"]
        indexes = [models.Index(fields=["tenant", "kpi", "effective_from"], name="kpitarget_kpi")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(partner__isnull=True, partner_type__isnull=True, tier__isnull=True)
                    | Q(partner__isnull=False, partner_type__isnull=True, tier__isnull=True)
                    | Q(partner__isnull=True, partner_type__isnull=False, tier__isnull=True)
                    | Q(partner__isnull=True, partner_type__isnull=True, tier__isnull=False)
                ),
                name="kpitarget_one_scope",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gt=models.F("effective_from")),
                name="kpitarget_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} target {self.value} from {self.effective_from}"


class KpiMeasurement(TenantModel):
    """One value per partner, KPI and day; a resubmission replaces it (the audit keeps the old)."""

    class Origin(models.TextChoices):
        API = "api", "API"
        CSV = "csv", "CSV upload"
        PORTAL = "portal", "Partner portal"
        MANUAL = "manual", "Entered by CSP staff"
        SETTLEMENT = "settlement", "Settlement usage"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="kpi_measurements")
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.CASCADE, related_name="measurements")
    date = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kpi", "partner", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "kpi", "date"], name="kpimeasurement_day"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "kpi", "partner", "date"], name="kpimeasurement_series")
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id}/{self.partner_id} {self.date}: {self.value}"


class MeasurementImport(TenantModel):
    """A CSV upload of measurements: previewed, then committed all-or-nothing by a task."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="kpi-imports/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class DriftAlert(TenantModel):
    """A partner's KPI drifting: a level shift against its baseline, or a target at risk."""

    class Kind(models.TextChoices):
        SHIFT = "shift", "Level shift"
        TARGET_AT_RISK = "target_at_risk", "Target at risk"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="drift_alerts")
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.CASCADE, related_name="drift_alerts")
    detected_on = models.DateField()
    kind = models.CharField(max_length=14, choices=Kind.choices)
    direction = models.CharField(max_length=4, choices=[("up", "Up"), ("down", "Down")])
    size = models.DecimalField(max_digits=20, decimal_places=6)
    baseline_value = models.DecimalField(max_digits=20, decimal_places=6)
    recent_value = models.DecimalField(max_digits=20, decimal_places=6)
    target_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    change_started_on = models.DateField(null=True, blank=True)
    explanation = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_on", "-id"]
        indexes = [models.Index(fields=["tenant", "status"], name="driftalert_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "kpi", "kind", "detected_on"],
                name="driftalert_once_per_day",
            )
        ]

    def __str__(self) -> str:
        return self.explanation[:80]
