"""Finance exports: create an export (enqueued after commit), build its file, GL account settings.

``settlement_export_run`` is deliberately not one transaction: it reads the statements in
batches, each in its own tenant transaction that also records the progress, so the export page
shows the bar moving while the task writes the file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.core.queue import enqueue as enqueue_job
from partnerhub.tenancy.context import require_current_tenant, tenant_context
from partnerhub.tenancy.models import Tenant
from partners.models import Partner
from settlements.exports.files import ExportWriter, export_file_name, export_formats, needs_lines
from settlements.exports.filters import (
    export_filters_clean,
    statement_export_queryset,
    statements_for_export,
)
from settlements.models import JournalSettings, SettlementExport

DEFAULT_BATCH_SIZE = 200
JOURNAL_ACCOUNT_FIELDS = (
    "partner_payable_account",
    "partner_receivable_account",
    "revenue_share_expense_account",
    "revenue_share_income_account",
    "journal_code",
)


def export_batch_size() -> int:
    return int(getattr(settings, "SETTLEMENT_EXPORT_BATCH_SIZE", DEFAULT_BATCH_SIZE))


def export_options_check(*, kind: str, file_format: str) -> None:
    """``ValidationError`` naming the problem when ``kind`` cannot be written as ``file_format``."""
    if kind not in SettlementExport.Kind.values:
        raise ValidationError(
            {"kind": [f"Unknown export kind {kind!r}: use {', '.join(SettlementExport.Kind)}."]}
        )
    allowed = export_formats(kind)
    if file_format not in allowed:
        raise ValidationError(
            {
                "file_format": [
                    f"A {kind} export is written as {' or '.join(allowed)}, not {file_format!r}."
                ]
            }
        )


@transaction.atomic
def settlement_export_create(
    *,
    kind: str,
    file_format: str,
    month: date,
    filters: Mapping[str, Any] | None = None,
    user: User | None = None,
    partner: Partner | None = None,
    enqueue: bool = True,
) -> SettlementExport:
    """Record an export of ``month``'s statements and build it in a task after commit.

    ``partner`` scopes it to that partner's own approved, paid or disputed statements (portal).
    """
    export_options_check(kind=kind, file_format=file_format)
    export = SettlementExport(
        kind=kind,
        file_format=file_format,
        month=month.replace(day=1),
        filters=export_filters_clean(filters),
        partner=partner,
        created_by=user,
    )
    export.full_clean(exclude=["tenant", "created_by", "partner", "file"])
    export.save()
    if enqueue:
        from settlements.tasks import settlement_export_build

        tenant_id, export_id = export.tenant_id, export.pk
        transaction.on_commit(lambda: enqueue_job(settlement_export_build, tenant_id, export_id))
    return export


def journal_settings_get() -> JournalSettings:
    """The tenant's GL accounts; the defaults (unsaved) until finance sets them."""
    return JournalSettings.objects.first() or JournalSettings()


@transaction.atomic
def journal_settings_update(*, user: User | None = None, **accounts: str) -> JournalSettings:
    """Set the tenant's GL accounts (the fields given; the others keep their values)."""
    unknown = sorted(set(accounts) - set(JOURNAL_ACCOUNT_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown journal setting {', '.join(unknown)}.")
    journal = JournalSettings.objects.select_for_update().first() or JournalSettings()
    for name, value in accounts.items():
        setattr(journal, name, value.strip() if isinstance(value, str) else value)
    journal.updated_by = user
    journal.full_clean(exclude=["tenant", "updated_by"])
    journal.save()
    return journal


def settlement_export_run(*, tenant: Tenant, export_id: int) -> SettlementExport:
    """Build the export's file (idempotent: a finished export is returned as it is; a rerun of
    an interrupted one starts over) and store it under the tenant's folder."""
    with tenant_context(tenant):
        export = SettlementExport.objects.select_for_update().get(pk=export_id)
        if export.status == SettlementExport.Status.DONE:
            return export
        queryset = statement_export_queryset(
            month=export.month, filters=export.filters, partner=export.partner
        )
        ids = list(queryset.values_list("pk", flat=True))
        accounts = journal_settings_get()
        export.status = SettlementExport.Status.RUNNING
        export.statements_total = len(ids)
        export.statements_done = export.rows_written = export.progress = 0
        export.error = ""
        export.save(
            update_fields=[
                "status",
                "statements_total",
                "statements_done",
                "rows_written",
                "progress",
                "error",
            ]
        )
    size = export_batch_size()
    with tempfile.TemporaryFile() as out:
        writer = ExportWriter(
            out, kind=export.kind, file_format=export.file_format, tenant=tenant, accounts=accounts
        )
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            with tenant_context(tenant):
                writer.add(statements_for_export(ids=batch, with_lines=needs_lines(export.kind)))
                done = start + len(batch)
                SettlementExport.objects.filter(pk=export_id).update(
                    statements_done=done,
                    rows_written=writer.rows_written,
                    # 100 only once the file is stored.
                    progress=min(99, done * 100 // len(ids)),
                )
        writer.close()
        out.seek(0)
        with tenant_context(tenant):
            export = SettlementExport.objects.select_for_update().get(pk=export_id)
            if export.file:
                export.file.delete(save=False)
            name = export_file_name(
                kind=export.kind, file_format=export.file_format, month=export.month
            )
            export.file.save(name, File(out), save=False)
            export.file_name = name
            export.size = export.file.size
            export.statements_done = len(ids)
            export.rows_written = writer.rows_written
            export.status = SettlementExport.Status.DONE
            export.progress = 100
            export.finished_at = timezone.now()
            export.save()
    return export


def settlement_export_fail(*, tenant: Tenant, export_id: int, error: str) -> None:
    """Mark the export failed with ``error`` (shown on its page and in the API)."""
    with tenant_context(tenant):
        SettlementExport.objects.filter(pk=export_id).exclude(
            status=SettlementExport.Status.DONE
        ).update(
            status=SettlementExport.Status.FAILED, error=error[:2000], finished_at=timezone.now()
        )


def export_build_now(
    *, kind: str, file_format: str, month: date, filters: Mapping[str, Any] | None, out: Any
) -> int:
    """Write a small export synchronously to ``out`` (the current tenant); returns the number of
    statements. Callers check the size first (``SETTLEMENT_EXPORT_SYNC_LIMIT``)."""
    export_options_check(kind=kind, file_format=file_format)
    cleaned = export_filters_clean(filters)
    ids = list(statement_export_queryset(month=month, filters=cleaned).values_list("pk", flat=True))
    writer = ExportWriter(
        out,
        kind=kind,
        file_format=file_format,
        tenant=require_current_tenant(),
        accounts=journal_settings_get(),
    )
    writer.add(statements_for_export(ids=ids, with_lines=needs_lines(kind)))
    writer.close()
    return len(ids)
