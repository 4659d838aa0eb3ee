"""Finance exports: the tenant's GL accounts for the journal, and export files built by tasks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from partnerhub.tenancy.models import TenantModel
from partners.models import Partner

account_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,39}$",
    "Use an account number of letters, digits and . _ : / - (at most 40 characters).",
)


class JournalSettings(TenantModel):
    """The general-ledger accounts the journal export books statements on (one row per tenant)."""

    partner_payable_account = models.CharField(
        max_length=40,
        default="2100",
        validators=[account_validator],
        help_text="Credited with what the CSP owes partners (payable statements).",
    )
    partner_receivable_account = models.CharField(
        max_length=40,
        default="1200",
        validators=[account_validator],
        help_text="Debited with what partners owe the CSP (receivable statements).",
    )
    revenue_share_expense_account = models.CharField(
        max_length=40,
        default="6100",
        validators=[account_validator],
        help_text="Debited with the partners' shares of payable statements.",
    )
    revenue_share_income_account = models.CharField(
        max_length=40,
        default="4100",
        validators=[account_validator],
        help_text="Credited with the CSP's income from receivable statements.",
    )
    journal_code = models.CharField(
        max_length=20,
        default="RS",
        validators=[account_validator],
        help_text="The ERP journal the entries go to.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "journal settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="journalsettings_tenant")]

    def __str__(self) -> str:
        return f"Journal settings of tenant {self.tenant_id}"


def export_path(instance: SettlementExport, filename: str) -> str:
    # A random name under the tenant's folder; the download name lives in ``file_name``.
    return f"tenants/{instance.tenant_id}/settlements/exports/{uuid.uuid4().hex}"


class SettlementExport(TenantModel):
    """A file of a month's (filtered) statements, built by a task, downloaded through a view."""

    class Kind(models.TextChoices):
        STATEMENTS = "statements", "Statements"
        LINES = "lines", "Statement lines"
        JOURNAL = "journal", "Journal (GL entries)"
        PDF_ZIP = "pdf_zip", "PDF statements (ZIP)"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        ZIP = "zip", "ZIP of PDFs"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    month = models.DateField(help_text="First day of the exported month.")
    filters = models.JSONField(default=dict, blank=True)
    # Set for a partner's own export (portal): only that partner's statements, only its users.
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    statements_total = models.PositiveIntegerField(default=0)
    statements_done = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="settlementexport_progress"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="pdf_zip", file_format="zip")
                    | (~models.Q(kind="pdf_zip") & models.Q(file_format__in=["csv", "xlsx"]))
                ),
                name="settlementexport_kind_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.month:%Y-%m} ({self.file_format})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.DONE and bool(self.file)

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
