"""Usage and revenue records, their imports, products and FX rates."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from partnerhub.tenancy.models import Tenant, TenantModel
from partners.models import Partner


class Product(TenantModel):
    """A product or service whose usage is settled (content bundle, SMS, tower rent, ...)."""

    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30, default="unit")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="product_code")]

    def __str__(self) -> str:
        return self.code


class FxRate(TenantModel):
    """One unit of ``base`` costs ``rate`` units of ``quote`` on ``date`` (tenant's own rates)."""

    date = models.DateField()
    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "base", "quote"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "date", "base", "quote"], name="fxrate_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fxrate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.base} = {self.rate} {self.quote}"


class UsageImport(TenantModel):
    """A batch of usage records (CSV file or JSON bulk request) and what became of each row."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    class Policy(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        PARTIAL = "partial", "Accept the valid rows"

    # A worker running the import holds the advisory lock hashtextextended(LOCK_PREFIX || id, 0).
    LOCK_PREFIX = "settlements.usage_import:"

    source = models.CharField(max_length=10, default="csv")
    file = models.FileField(upload_to="usage-imports/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    policy = models.CharField(max_length=16, choices=Policy.choices, default=Policy.ALL_OR_NOTHING)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # Runs started: a worker or database lost mid-way makes the import run again, up to a limit.
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Usage import {self.pk} ({self.status})"


class UsageRejectedRow(TenantModel):
    """A row of an import that was refused, with the reason naming the column."""

    usage_import = models.ForeignKey(
        UsageImport, on_delete=models.CASCADE, related_name="rejected_rows"
    )
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=300)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["usage_import", "row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"


class UsageRecord(TenantModel):
    """One usage or revenue event. Refunds are negative amounts.

    The table is partitioned by month (RANGE on ``event_time``, migration 0002): the database
    primary key is ``(id, event_time)``; Django sees ``id`` alone, which an identity column keeps
    unique. Month partitions are created on demand by ``settlements_usage_partition(month)`` (a
    SECURITY DEFINER function: the app role does not own the table), with a default partition as
    a safety net, so an old month can be detached and archived.

    ``(tenant, external_id)`` is unique across partitions through the non-partitioned key table
    ``settlements_usagekey (tenant_id, external_id) PRIMARY KEY``, filled in the same transaction
    as the records: ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` tells new records from
    duplicates, so sending a record twice stores it once. Integrity of ``partner`` and
    ``usage_import`` is held by the composite ``(tenant_id, <fk>)`` foreign keys that
    ``partnerhub.tenancy.rls`` adds (the single-column ones would only repeat that check on every
    bulk-inserted row); ``rls_tenant_key = False`` because a unique index on a partitioned table
    must contain ``event_time``.
    """

    rls_tenant_key = False
    rls_tenant_fks = False

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    product_code = models.CharField(max_length=60)
    event_time = models.DateTimeField()
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    gross_amount = models.DecimalField(max_digits=20, decimal_places=6)
    tax_amount = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    currency = models.CharField(max_length=3)
    external_id = models.CharField(max_length=100)
    usage_import = models.ForeignKey(
        UsageImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_time", "id"]
        indexes = [
            models.Index(fields=["tenant", "partner", "event_time"], name="usage_partner_time"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.gross_amount} {self.currency}"


class UsageDay(TenantModel):
    """The usage of one local day, summed per partner, product, record currency and import.

    What a settlement run reads instead of the month's records: a run of the open month is
    repeated every night, and the month's records (a million and more) would be read and grouped
    again each time, while their days hold a few per cent as many rows. Kept in the database
    by statement-level triggers on ``settlements_usagerecord`` (migration 0009): every INSERT,
    DELETE or UPDATE through the parent table adds or takes its rows' sums in the same
    transaction, whatever wrote them (the CSV import, the bulk API, the ORM, SQL). ``day`` is
    the record's local date in the tenant's time zone; changing a tenant's ``timezone``
    recomputes its days (a trigger on ``tenancy_tenant``). Never written by Python.

    ``usage_import`` NULL (records made without an import) is one key like any other
    (``nulls_distinct=False``). The reconciliation report still sums the records themselves, so
    it checks these sums against the usage they come from.
    """

    rls_tenant_key = False
    rls_tenant_fks = False

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    product_code = models.CharField(max_length=60)
    currency = models.CharField(max_length=3)
    usage_import = models.ForeignKey(
        UsageImport,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    record_count = models.BigIntegerField()
    quantity = models.DecimalField(max_digits=32, decimal_places=6)
    gross_amount = models.DecimalField(max_digits=32, decimal_places=6)
    tax_amount = models.DecimalField(max_digits=32, decimal_places=6)

    class Meta:
        ordering = ["day", "partner", "product_code", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "day", "product_code", "currency", "usage_import"],
                nulls_distinct=False,
                name="usageday_key",
            )
        ]
        indexes = [models.Index(fields=["tenant", "day"], name="usageday_tenant_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_code} {self.gross_amount} {self.currency}"
