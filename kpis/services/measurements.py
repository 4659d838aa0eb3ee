"""Ingest of daily KPI measurements: validated and upserted set-based, all or nothing.

Rows are loaded into a temporary table in one statement, checked with a handful of joins
(unknown partner or KPI, bad number or date, duplicates), and only when no row is bad are
they upserted with ``INSERT ... ON CONFLICT DO UPDATE``. Values a resubmission replaces are
copied into the audit trail by one ``INSERT ... SELECT`` first (auditlog never sees bulk SQL).

A partner is named by its id (``"42"``) or by its legal name (unique per tenant, matched
case-insensitively), so files exported from other systems can be loaded as they are.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from kpis.models import KpiMeasurement, MeasurementImport
from kpis.periods import tenant_today
from partnerhub.accounts.models import User
from partnerhub.core.queue import enqueue
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner

MAX_ROWS = 10_000
EARLIEST = date(2000, 1, 1)
COLUMNS = ("partner", "kpi", "date", "value")
ERRORS_SHOWN = 1000


@dataclass
class IngestResult:
    rows: int = 0
    created: int = 0
    replaced: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0


class MeasurementRowsInvalid(ValidationError):
    """Some rows are bad; ``rows`` lists each: row number, column, message."""

    def __init__(self, rows: list[dict[str, Any]], total: int) -> None:
        self.rows = rows
        self.total = total
        super().__init__(f"{total} row error(s); nothing was written.")


def _cell(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    return str(value).strip()


def _load(rows: Sequence[Mapping[str, Any]], *, partner: Partner | None) -> None:
    """Fill the temporary table ``kpi_ingest`` with the raw rows and resolve them in SQL."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS kpi_ingest")
        cursor.execute(
            """
            CREATE TEMPORARY TABLE kpi_ingest (
                row_no integer PRIMARY KEY, partner_ref text, kpi_key text, date_text text,
                value_text text, partner_id bigint, kpi_id bigint, aggregation text,
                source text, partner_reported boolean, day date, value numeric(20, 6)
            ) ON COMMIT DROP
            """
        )
        cursor.execute(
            """
            INSERT INTO kpi_ingest (row_no, partner_ref, kpi_key, date_text, value_text)
            SELECT * FROM unnest(%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[])
            """,
            [
                list(range(1, len(rows) + 1)),
                [str(partner.pk) if partner else _cell(r, "partner") for r in rows],
                [_cell(r, "kpi") for r in rows],
                [_cell(r, "date") for r in rows],
                [_cell(r, "value") for r in rows],
            ],
        )
        tenant_id = require_current_tenant().pk
        cursor.execute(
            """
            UPDATE kpi_ingest i SET partner_id = p.id
              FROM partners_partner p
             WHERE p.tenant_id = %(t)s
               AND p.id = CASE WHEN i.partner_ref ~ '^[0-9]{1,18}$'
                               THEN i.partner_ref::bigint END;
            UPDATE kpi_ingest i SET partner_id = p.id
              FROM partners_partner p
             WHERE i.partner_id IS NULL AND p.tenant_id = %(t)s
               AND lower(p.legal_name) = lower(i.partner_ref);
            UPDATE kpi_ingest i
               SET kpi_id = d.id, aggregation = d.aggregation, source = d.source,
                   partner_reported = d.partner_reported
              FROM kpis_kpidefinition d
             WHERE d.tenant_id = %(t)s AND d.is_active AND d.key = i.kpi_key;
            UPDATE kpi_ingest
               SET day = CASE WHEN date_text ~ '^\\d{4}-\\d{2}-\\d{2}$'
                               AND pg_input_is_valid(date_text, 'date')
                              THEN date_text::date END,
                   value = CASE WHEN value_text ~ '^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$'
                                 AND pg_input_is_valid(value_text, 'numeric(20, 6)')
                                THEN value_text::numeric(20, 6) END;
            """,
            {"t": tenant_id},
        )


_ERRORS_SQL = """
WITH dup AS (
    SELECT row_no, count(*) OVER (PARTITION BY partner_id, kpi_id, day) AS n,
           min(row_no) OVER (PARTITION BY partner_id, kpi_id, day) AS first_row
      FROM kpi_ingest
     WHERE partner_id IS NOT NULL AND kpi_id IS NOT NULL AND day IS NOT NULL
), errors AS (
    SELECT row_no, 'partner' AS col,
           CASE WHEN coalesce(partner_ref, '') = '' THEN 'Partner is missing.'
                ELSE format('Unknown partner %%s.', quote_literal(partner_ref)) END AS message
      FROM kpi_ingest WHERE partner_id IS NULL
    UNION ALL
    SELECT row_no, 'kpi',
           CASE WHEN coalesce(kpi_key, '') = '' THEN 'KPI key is missing.'
                ELSE format('Unknown KPI key %%s.', quote_literal(kpi_key)) END
      FROM kpi_ingest WHERE kpi_id IS NULL
    UNION ALL
    SELECT row_no, 'kpi',
           format('KPI %%s is a ratio computed from its operands; submit those instead.',
                  quote_literal(kpi_key))
      FROM kpi_ingest WHERE aggregation = 'ratio'
    UNION ALL
    SELECT row_no, 'kpi',
           format('KPI %%s is computed from settlement usage; it cannot be submitted.',
                  quote_literal(kpi_key))
      FROM kpi_ingest WHERE source = 'settlement' AND aggregation <> 'ratio'
    UNION ALL
    SELECT row_no, 'kpi', format('KPI %%s is not reported by partners.', quote_literal(kpi_key))
      FROM kpi_ingest WHERE %(portal)s AND kpi_id IS NOT NULL AND NOT partner_reported
    UNION ALL
    SELECT row_no, 'date',
           CASE WHEN coalesce(date_text, '') = '' THEN 'Date is missing.'
                ELSE format('%%s is not a date (use YYYY-MM-DD).', quote_literal(date_text)) END
      FROM kpi_ingest WHERE day IS NULL
    UNION ALL
    SELECT row_no, 'date',
           format('%%s is out of range (%%s to %%s).', day, %(earliest)s::date, %(today)s::date)
      FROM kpi_ingest WHERE day < %(earliest)s OR day > %(today)s
    UNION ALL
    SELECT row_no, 'value',
           CASE WHEN coalesce(value_text, '') = '' THEN 'Value is missing.'
                ELSE format('%%s is not a number (at most 14 digits before the point).',
                            quote_literal(value_text)) END
      FROM kpi_ingest WHERE value IS NULL
    UNION ALL
    SELECT row_no, 'date',
           format('Duplicate of row %%s (same partner, KPI and date).', first_row)
      FROM dup WHERE n > 1 AND row_no <> first_row
)
SELECT row_no, col, message, count(*) OVER () FROM errors ORDER BY row_no, col
 LIMIT %(limit)s
"""


def _errors(*, today: date, portal: bool) -> tuple[list[dict[str, Any]], int]:
    with connection.cursor() as cursor:
        cursor.execute(
            _ERRORS_SQL,
            {"earliest": EARLIEST, "today": today, "portal": portal, "limit": ERRORS_SHOWN},
        )
        found = cursor.fetchall()
    total = found[0][3] if found else 0
    return [{"row": r, "column": c, "message": m} for r, c, m, _ in found], total


def _check_size(rows: list[Mapping[str, Any]]) -> None:
    if not rows:
        raise ValidationError({"rows": "No rows to import."})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"rows": f"At most {MAX_ROWS:,} rows per request ({len(rows):,})."})
    _refuse_nul(rows, key="rows")


def _refuse_nul(rows: Sequence[Mapping[str, Any]], *, key: str) -> None:
    """PostgreSQL text cannot hold NUL: name the first such cell instead of failing in SQL."""
    for number, row in enumerate(rows, start=1):
        for column in COLUMNS:
            if "\x00" in str(row.get(column) or ""):
                raise ValidationError(
                    {key: f"Row {number}: {column} contains a NUL character (binary data?)."}
                )


@transaction.atomic
def kpi_measurements_validate(
    *,
    rows: Iterable[Mapping[str, Any]],
    partner: Partner | None = None,
    today: date | None = None,
) -> IngestResult:
    """Check rows without writing anything: every bad row and column (first 1,000 errors)."""
    rows = list(rows)
    _check_size(rows)
    sid = transaction.savepoint()
    try:
        _load(rows, partner=partner)
        errors, total = _errors(today=today or tenant_today(), portal=partner is not None)
    finally:
        transaction.savepoint_rollback(sid)
    return IngestResult(rows=len(rows), errors=errors, error_count=total)


@transaction.atomic
def kpi_measurements_ingest(
    *,
    rows: Iterable[Mapping[str, Any]],
    origin: str,
    user: User | None = None,
    partner: Partner | None = None,
    today: date | None = None,
) -> IngestResult:
    """Upsert daily values, all or nothing (``MeasurementRowsInvalid`` lists every bad row).

    ``partner`` set (portal): every row is that partner's and the KPIs must be
    partner-reported. A resubmitted (partner, KPI, date) replaces the value; the old value
    goes to the audit trail.
    """
    rows = list(rows)
    _check_size(rows)
    if origin not in KpiMeasurement.Origin.values:
        raise ValidationError({"origin": f"Unknown origin {origin!r}."})
    tenant_id = require_current_tenant().pk
    _load(rows, partner=partner)
    errors, total = _errors(today=today or tenant_today(), portal=partner is not None)
    if errors:
        raise MeasurementRowsInvalid(errors, total)
    content_type = ContentType.objects.get_for_model(KpiMeasurement)
    params = {
        "t": tenant_id,
        "ct": content_type.pk,
        "user": user.pk if user else None,
        "email": user.email if user else None,
        "origin": origin,
    }
    with connection.cursor() as cursor:
        # The values about to be replaced, kept in the trail (action 1 = update).
        cursor.execute(
            """
            INSERT INTO audit_auditentry
                (tenant_id, content_type_id, object_pk, object_id, object_repr, action,
                 changes, changes_text, actor_id, actor_email, timestamp, additional_data)
            SELECT %(t)s, %(ct)s, m.id::text, m.id,
                   format('%%s/%%s %%s: %%s', m.kpi_id, m.partner_id, m.date, m.value), 1,
                   jsonb_build_object('value', jsonb_build_array(m.value::text, i.value::text),
                                      'origin', jsonb_build_array(m.origin, %(origin)s)),
                   '', %(user)s, %(email)s, now(),
                   jsonb_build_object('bulk_ingest', true)
              FROM kpi_ingest i
              JOIN kpis_kpimeasurement m
                ON m.tenant_id = %(t)s AND m.partner_id = i.partner_id
               AND m.kpi_id = i.kpi_id AND m.date = i.day
             WHERE m.value IS DISTINCT FROM i.value
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO kpis_kpimeasurement
                (tenant_id, partner_id, kpi_id, date, value, origin, submitted_by_id,
                 submitted_at)
            SELECT %(t)s, partner_id, kpi_id, day, value, %(origin)s, %(user)s, now()
              FROM kpi_ingest
            ON CONFLICT (tenant_id, partner_id, kpi_id, date) DO UPDATE
               SET value = EXCLUDED.value, origin = EXCLUDED.origin,
                   submitted_by_id = EXCLUDED.submitted_by_id,
                   submitted_at = EXCLUDED.submitted_at
            RETURNING (xmax = 0)
            """,
            params,
        )
        inserted = [r[0] for r in cursor.fetchall()]
    created = sum(inserted)
    return IngestResult(rows=len(rows), created=created, replaced=len(inserted) - created)


# --- CSV uploads: preview, then commit by a task ------------------------------------------------

MAX_UPLOAD_ROWS = 200_000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
CHUNK_ROWS = 2_000
PREVIEW_ROWS = 100


def measurement_import_rows(measurement_import: MeasurementImport) -> list[dict[str, str]]:
    """The CSV rows of an upload, keyed by the lower-cased header (partner, kpi, date, value)."""
    with measurement_import.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            {"file": f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(COLUMNS)}."}
        )
    reader.fieldnames = header
    rows = [{c: (r.get(c) or "") for c in COLUMNS} for r in reader]
    _refuse_nul(rows, key="file")
    return rows


def _progress_key(import_id: int) -> str:
    return f"kpis:import-progress:{import_id}"


def measurement_import_progress(measurement_import: MeasurementImport) -> int:
    """Rows written so far: the running task reports to the cache (its transaction is open)."""
    if measurement_import.status == MeasurementImport.Status.RUNNING:
        return int(cache.get(_progress_key(measurement_import.pk)) or 0)
    return measurement_import.rows_done


@transaction.atomic
def measurement_import_preview(*, upload: UploadedFile, user: User | None) -> MeasurementImport:
    """Store an uploaded CSV and check every row (nothing written to the measurements yet)."""
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB."})
    name = upload.name or "upload.csv"
    measurement_import = MeasurementImport(
        original_name=name[:255],
        created_by=user,
        status=MeasurementImport.Status.PREVIEWED,
        tenant=require_current_tenant(),
    )
    measurement_import.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    try:
        rows = measurement_import_rows(measurement_import)
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": "The file is not UTF-8 text (save it as CSV UTF-8)."}
        ) from None
    except csv.Error as exc:
        raise ValidationError({"file": f"Not a readable CSV file: {exc}."}) from None
    if not rows:
        raise ValidationError({"file": "The file has a header but no rows."})
    if len(rows) > MAX_UPLOAD_ROWS:
        raise ValidationError({"file": f"At most {MAX_UPLOAD_ROWS:,} rows per file."})
    result = _validate_all(rows)
    measurement_import.rows_total = len(rows)
    measurement_import.errors = result.errors
    measurement_import.full_clean(exclude=["created_by"])
    measurement_import.save()
    return measurement_import


def _validate_all(rows: list[dict[str, str]]) -> IngestResult:
    # One set-based check over the whole file (its row numbers, duplicates across chunks).
    sid = transaction.savepoint()
    try:
        _load(rows, partner=None)
        errors, total = _errors(today=tenant_today(), portal=False)
    finally:
        transaction.savepoint_rollback(sid)
    return IngestResult(rows=len(rows), errors=errors, error_count=total)


@transaction.atomic
def measurement_import_commit(*, measurement_import: MeasurementImport) -> MeasurementImport:
    """Queue a previewed, error-free upload; the task writes it after this transaction commits."""
    from kpis.tasks import kpi_measurements_import

    if measurement_import.status != MeasurementImport.Status.PREVIEWED:
        raise ValidationError("This upload has already been committed.")
    if measurement_import.errors:
        raise ValidationError("Fix the errors in the file and upload it again.")
    measurement_import.status = MeasurementImport.Status.QUEUED
    measurement_import.save(update_fields=["status"])
    import_id, tenant_id = measurement_import.pk, measurement_import.tenant_id
    transaction.on_commit(lambda: enqueue(kpi_measurements_import, import_id, tenant_id))
    return measurement_import


@transaction.atomic
def measurement_import_start(*, import_id: int) -> MeasurementImport | None:
    """Mark a queued upload running (committed: the progress page sees it); None if not queued."""
    measurement_import = MeasurementImport.objects.select_for_update().filter(pk=import_id).first()
    if measurement_import is None or measurement_import.status != MeasurementImport.Status.QUEUED:
        return None
    measurement_import.status = MeasurementImport.Status.RUNNING
    measurement_import.save(update_fields=["status"])
    cache.set(_progress_key(import_id), 0, timeout=3600)
    return measurement_import


@transaction.atomic
def measurement_import_run(*, import_id: int) -> MeasurementImport:
    """Write a running upload, all or nothing, in chunks that report progress."""
    measurement_import = MeasurementImport.objects.select_for_update().get(pk=import_id)
    rows = measurement_import_rows(measurement_import)
    result = _validate_all(rows)
    if result.errors:
        raise MeasurementRowsInvalid(result.errors, result.error_count)
    done = 0
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        kpi_measurements_ingest(
            rows=chunk, origin=KpiMeasurement.Origin.CSV, user=measurement_import.created_by
        )
        done += len(chunk)
        cache.set(_progress_key(import_id), done, timeout=3600)
    measurement_import.status = MeasurementImport.Status.DONE
    measurement_import.rows_done = done
    measurement_import.finished_at = timezone.now()
    measurement_import.save(update_fields=["status", "rows_done", "finished_at"])
    return measurement_import


@transaction.atomic
def measurement_import_fail(*, import_id: int, errors: list[dict[str, Any]]) -> None:
    MeasurementImport.objects.filter(pk=import_id).update(
        status=MeasurementImport.Status.FAILED, errors=errors, finished_at=timezone.now()
    )
