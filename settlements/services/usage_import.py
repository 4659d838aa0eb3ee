# ruff: noqa: S608 - SQL is built from module constants (table and column names); values are
# always bound parameters.
"""Usage ingestion at COPY speed: CSV files and JSON batches, one SQL path.

Rows are streamed with ``COPY ... FROM STDIN`` into a TEMP staging table of text columns (the
file is read in chunks, never whole), validated set-based in SQL (one counting scan; when it
finds a problem, the full validation records each one as a ``UsageRejectedRow`` naming row and
column), then inserted set-based into the monthly partitions of ``settlements_usagerecord``. The
primary key of the key table ``settlements_usagekey`` keeps ``(tenant, external_id)`` unique: a
batch of new records goes in with plain inserts; a batch with a key already stored goes through
``INSERT ... ON CONFLICT DO NOTHING RETURNING``, which tells new from duplicate, so re-sending a
record stores it once. Timings: docs/settlement.md, "Speed, and where the time goes".

File format: UTF-8 CSV with a header row naming the columns ``partner`` (the partner's id in
PartnerHub), ``product_code``, ``event_time`` (ISO 8601; without an offset it is read in the
tenant's time zone), ``quantity``, ``gross_amount``, ``tax_amount`` (may be empty: 0),
``currency`` (ISO 4217) and ``external_id``; other columns are ignored. Rows are numbered from
the first data row (row 1). Amounts may not have more significant decimals than the currency's
minor units (``10.50`` is fine in EUR, ``10.5`` is refused in JPY, ``100.00`` is accepted as 100)
and must be below 10^14 in absolute value.

Files are inserted in batches of rows (``batch_size``, setting ``USAGE_IMPORT_BATCH_SIZE``).
Under the all-or-nothing policy (the default) nothing is inserted when any row is rejected
(validation happens before the first batch), and every batch goes into one transaction with the
import's "done": a worker killed or a database restarted mid-way leaves no row behind, and the
re-run starts over. The progress bar moves all the same: progress is written on a connection of
its own. Under the partial policy each batch commits with the import's progress
(``rows_processed``) and a re-run resumes after the last committed row.

A worker holds a session-level advisory lock on the import while it runs it. PostgreSQL drops the
lock with the session, so an import left "running" by a lost worker or a restarted server is
told apart from one in progress (``usage_imports_orphaned``) and published again by the
stale-jobs beat task; after ``MAX_ATTEMPTS`` runs it is marked failed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from partnerhub.core.queue import enqueue
from partnerhub.tenancy.context import TENANT_SETTING, require_current_tenant, tenant_context
from partnerhub.tenancy.models import Tenant
from settlements.currencies import currency_minor_units
from settlements.models import UsageImport, UsageRejectedRow

COLUMNS = (
    "partner",
    "product_code",
    "event_time",
    "quantity",
    "gross_amount",
    "tax_amount",
    "currency",
    "external_id",
)
OPTIONAL_COLUMNS = frozenset({"tax_amount"})
STAGING = "settlements_usage_staging"
ERRORS = "settlements_usage_errors"
CHUNK_SIZE = 1 << 20
MAX_ATTEMPTS = 10
BRIN_MIN_ROWS = 10_000
TEMP_BUFFERS = "256MB"
SORT_WORK_MEM = "64MB"
MAX_HEADER_BYTES = 64 * 1024
BULK_MAX_ROWS = 10_000
PREVIEW_ROWS = 20

_COPY_LINE = re.compile(r"line (\d+)")
FINISHED = frozenset(
    {UsageImport.Status.DONE, UsageImport.Status.REJECTED, UsageImport.Status.FAILED}
)

logger = logging.getLogger(__name__)


class UsageImportError(Exception):
    """The whole input is unusable (no header, missing columns, not CSV): nothing was staged."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass(frozen=True)
class RowError:
    row_number: int
    column: str
    reason: str


@dataclass(frozen=True)
class Preview:
    """First rows of a file as parsed, with every problem the dry run found."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    errors: list[RowError]
    rows_total: int
    rejected_rows: int


# ---------------------------------------------------------------- staging


def _create_staging(cursor: Any, extra: int) -> None:
    _grow_temp_buffers(cursor)
    cols = ", ".join(f"{c} text" + (' COLLATE "C"' if c == "external_id" else "") for c in COLUMNS)
    extras = "".join(f", ignored_{i} text" for i in range(extra))
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    cursor.execute(f"DROP TABLE IF EXISTS {ERRORS}")
    cursor.execute(
        f"CREATE TEMP TABLE {STAGING} (row_number bigint GENERATED ALWAYS AS IDENTITY, "
        f"{cols}{extras}) ON COMMIT PRESERVE ROWS"
    )
    cursor.execute(
        f"CREATE TEMP TABLE {ERRORS} (row_number bigint NOT NULL, col text NOT NULL, "
        "reason text NOT NULL) ON COMMIT PRESERVE ROWS"
    )


def _grow_temp_buffers(cursor: Any) -> None:
    """Keep the staging table in the session's memory (default 8 MB: a large file would be
    written out and read back on every pass). PostgreSQL allows this only before the session's
    first use of a temporary table; a session that used one keeps what it has."""
    cursor.execute("SELECT current_setting('temp_buffers') = %s", [TEMP_BUFFERS])
    if cursor.fetchone()[0]:
        return
    try:
        with transaction.atomic():
            cursor.execute("SELECT set_config('temp_buffers', %s, false)", [TEMP_BUFFERS])
    except DatabaseError:
        pass


def _index_staging(cursor: Any, total: int) -> None:
    """Statistics for the planner (temporary tables get none by themselves), and a BRIN index on
    the row numbers so that each batch reads only its own rows (they are in file order)."""
    cursor.execute(f"ANALYZE {STAGING}")
    if total > BRIN_MIN_ROWS:
        cursor.execute(f"CREATE INDEX ON {STAGING} USING brin (row_number)")


def _drop_staging() -> None:
    if connection.connection is None:  # the session is gone, and its temporary tables with it
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(f"DROP TABLE IF EXISTS {ERRORS}")
    except DatabaseError:
        if connection.is_usable():
            raise


def read_header(stream: IO[bytes]) -> list[str]:
    """The staging column of each CSV column (``ignored_<n>`` for unknown ones)."""
    line = stream.readline(MAX_HEADER_BYTES)
    if not line.strip():
        raise UsageImportError("The file is empty: expected a CSV header row.", row=0)
    if b"\x00" in line or (not line.endswith((b"\n", b"\r")) and len(line) >= MAX_HEADER_BYTES):
        raise UsageImportError("This is not a CSV file (binary content or no header row).", row=0)
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageImportError(
            "This is not a CSV file: the header is not UTF-8 text.", row=0
        ) from None
    try:
        names = next(csv.reader([text.strip("\r\n")]))
    except csv.Error as exc:
        raise UsageImportError(f"The header row is not valid CSV: {exc}.", row=0) from None
    names = [n.strip().lower() for n in names]
    seen: set[str] = set()
    mapping: list[str] = []
    for i, name in enumerate(names):
        if name in COLUMNS:
            if name in seen:
                raise UsageImportError(f"Column {name!r} appears twice in the header.", row=0)
            seen.add(name)
            mapping.append(name)
        else:
            mapping.append(f"ignored_{i}")
    missing = [c for c in COLUMNS if c not in seen and c not in OPTIONAL_COLUMNS]
    if missing:
        raise UsageImportError(
            "Missing column(s): "
            + ", ".join(missing)
            + f". The header must name: {', '.join(COLUMNS)}.",
            row=0,
        )
    return mapping


def _copy_error(exc: psycopg.Error) -> UsageImportError:
    diag = exc.diag
    message = diag.message_primary or str(exc)
    match = _COPY_LINE.search(diag.context or "")
    row = int(match.group(1)) if match else None
    if isinstance(
        exc, psycopg.errors.CharacterNotInRepertoire | psycopg.errors.UntranslatableCharacter
    ):
        message = "not UTF-8 text (is this a CSV file?)"
    where = f"Row {row}: " if row else ""
    return UsageImportError(f"{where}the file is not valid CSV: {message}.", row=row)


def stage_csv(stream: IO[bytes], *, chunk_size: int = CHUNK_SIZE) -> int:
    """Stream a CSV file into the staging table in chunks; the number of data rows."""
    mapping = read_header(stream)
    with connection.cursor() as cursor:
        _create_staging(cursor, extra=sum(1 for m in mapping if m.startswith("ignored_")))
        target = ", ".join(mapping)
        statement = f"COPY {STAGING} ({target}) FROM STDIN WITH (FORMAT csv)"
        try:
            with transaction.atomic(), cursor.copy(statement) as copy:
                while chunk := stream.read(chunk_size):
                    copy.write(chunk)
        except psycopg.Error as exc:
            raise _copy_error(exc) from None
        total = cursor.rowcount
        if total < 0:  # not reported by the driver: count
            cursor.execute(f"SELECT count(*) FROM {STAGING}")
            total = int(cursor.fetchone()[0])
        _index_staging(cursor, total)
        return total


def _cell(index: int, column: str, value: Any, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        errors[f"rows[{index}].{column}"] = "must be a string or a number"
        return None
    text = str(value)
    if "\x00" in text:
        errors[f"rows[{index}].{column}"] = "must not contain NUL characters"
        return None
    return text


def stage_rows(rows: Iterable[Mapping[str, Any]]) -> int:
    """Write JSON rows into the staging table with COPY (same validation path as files).

    Only the shape of each cell is checked here (text or number); everything else is the SQL
    validation's job, as for files.
    """
    errors: dict[str, str] = {}
    cells = [
        [_cell(i, c, row.get(c), errors) for c in COLUMNS] for i, row in enumerate(rows, start=1)
    ]
    if errors:
        raise ValidationError(errors)
    with connection.cursor() as cursor:
        _create_staging(cursor, extra=0)
        with cursor.copy(f"COPY {STAGING} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for values in cells:
                copy.write_row(values)
        cursor.execute(f"SELECT count(*) FROM {STAGING}")
        total = int(cursor.fetchone()[0])
        _index_staging(cursor, total)
        return total


# ---------------------------------------------------------------- validation

# Cheap checks instead of regular expressions (3x the cost for the partner id, measured): a
# character-class test with translate() and PostgreSQL's own parser via pg_input_is_valid().
# Size and decimals are read from the parsed number (abs(), min_scale()) rather than by cutting
# the text apart with split_part()/rtrim() (about 20% less per amount).
_DIGITS = "0123456789"
# numeric(20, 6): 14 digits before the point.
AMOUNT_LIMIT = "1e14"


def _number_ok(col: str) -> str:
    return f"translate(s.{col}, '{_DIGITS}.+-', '') = '' AND pg_input_is_valid(s.{col}, 'numeric')"


def _amount_check(col: str, decimals_clause: str) -> str:
    required = "NULL" if col == "tax_amount" else "'is required'"
    return f"""CASE
        WHEN nullif(s.{col}, '') IS NULL THEN {required}
        WHEN NOT ({_number_ok(col)}) THEN 'is not a number: ' || quote_literal(left(s.{col}, 40))
        WHEN abs(s.{col}::numeric) >= {AMOUNT_LIMIT} THEN 'is too large'
        WHEN {decimals_clause} END"""


_DATE_PREFIX = f"translate(left(s.event_time, 10), '{_DIGITS}', '9999999999') = '9999-99-99'"
_PARTNER_ID = (
    f"CASE WHEN length(s.partner) BETWEEN 1 AND 18 AND translate(s.partner, '{_DIGITS}', '') = ''"
    " THEN s.partner::bigint END"
)
_TIME_OK = f"({_DATE_PREFIX} AND pg_input_is_valid(s.event_time, 'timestamptz'))"


@dataclass(frozen=True)
class Validation:
    bad: int  # rows with at least one problem
    months: list[Any]  # first days of the months of the valid rows (UTC, as the partitions)


def validate_staged(tenant: Tenant) -> int:
    """Record every problem of the staged rows in the errors table; the number of bad rows."""
    return _validate(tenant).bad


def _validate(tenant: Tenant) -> Validation:
    """``validate_staged`` in one scan of the staging table, with the valid rows' months."""
    codes = currency_minor_units()
    decimals = (
        "c.code IS NOT NULL AND min_scale(s.{col}::numeric) > c.minor "
        "THEN 'has more decimals than ' || c.code || ' allows (' || c.minor || ')'"
    )
    # Each column's problem is computed in one projection over the staging table (a VALUES
    # list per row would re-initialise its expressions for every row: ~20x slower), then the
    # few rows with a problem are unpivoted into (row, column, reason).
    sql = f"""
    WITH ccy(code, minor) AS (SELECT * FROM unnest(%(codes)s::text[], %(minor)s::int[])),
    checked AS (
    SELECT s.row_number,
        CASE WHEN nullif(s.partner, '') IS NULL THEN 'is required'
            WHEN p.id IS NULL THEN 'unknown partner ' || quote_literal(left(s.partner, 40))
        END AS partner,
        CASE WHEN nullif(s.product_code, '') IS NULL THEN 'is required'
            WHEN pr.id IS NULL THEN 'unknown product ' || quote_literal(left(s.product_code, 60))
        END AS product_code,
        CASE WHEN nullif(s.event_time, '') IS NULL THEN 'is required'
            WHEN NOT {_TIME_OK}
            THEN 'is not an ISO 8601 date/time: ' || quote_literal(left(s.event_time, 40))
        END AS event_time,
        CASE WHEN {_TIME_OK} THEN
            date_trunc('month', s.event_time::timestamptz AT TIME ZONE 'UTC')::date
        END AS month,
        {_amount_check("quantity", "min_scale(s.quantity::numeric) > 6 THEN 'has more than 6 decimals'")} AS quantity,
        {_amount_check("gross_amount", decimals.format(col="gross_amount"))} AS gross_amount,
        {_amount_check("tax_amount", decimals.format(col="tax_amount"))} AS tax_amount,
        CASE WHEN nullif(s.currency, '') IS NULL THEN 'is required'
            WHEN c.code IS NULL
            THEN quote_literal(left(s.currency, 10)) || ' is not an ISO 4217 currency code'
        END AS currency,
        CASE WHEN nullif(s.external_id, '') IS NULL THEN 'is required'
            WHEN length(s.external_id) > 100 THEN 'is longer than 100 characters'
        END AS external_id
    FROM {STAGING} s
    LEFT JOIN partners_partner p ON p.tenant_id = %(tenant)s
        AND p.id = {_PARTNER_ID}
    LEFT JOIN settlements_product pr ON pr.tenant_id = %(tenant)s AND pr.code = s.product_code
    LEFT JOIN ccy c ON c.code = s.currency
    ), flagged AS (
        SELECT *, num_nonnulls(partner, product_code, event_time, quantity, gross_amount,
            tax_amount, currency, external_id) > 0 AS is_bad
        FROM checked
    ), errors AS (
        INSERT INTO {ERRORS} (row_number, col, reason)
        SELECT b.row_number, e.col, e.reason
        FROM flagged b CROSS JOIN LATERAL unnest(
            ARRAY['partner', 'product_code', 'event_time', 'quantity', 'gross_amount',
                'tax_amount', 'currency', 'external_id'],
            ARRAY[b.partner, b.product_code, b.event_time, b.quantity, b.gross_amount,
                b.tax_amount, b.currency, b.external_id]
        ) AS e(col, reason)
        WHERE b.is_bad AND e.reason IS NOT NULL
        RETURNING row_number
    )
    -- The months of the valid rows (their partitions), and the number of rejected rows.
    SELECT m.month, NULL FROM (
        SELECT DISTINCT month FROM flagged WHERE NOT is_bad
    ) AS m
    UNION ALL
    SELECT NULL, count(DISTINCT row_number) FROM errors
    """  # noqa: E501
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"codes": list(codes), "minor": list(codes.values()), "tenant": tenant.pk}
        )
        rows = cursor.fetchall()
        bad = int(next(n for month, n in rows if n is not None))
        if bad:
            cursor.execute(f"CREATE INDEX ON {ERRORS} (row_number)")
            cursor.execute(f"ANALYZE {ERRORS}")
    return Validation(bad, sorted(month for month, _ in rows if month is not None))


def _fast_amount_ok(col: str, decimals: str) -> str:
    present = (
        f"abs(s.{col}::numeric) < {AMOUNT_LIMIT} AND min_scale(s.{col}::numeric) <= {decimals}"
    )
    if col == "tax_amount":
        return f"(nullif(s.{col}, '') IS NULL OR ({present}))"
    return f"(nullif(s.{col}, '') IS NOT NULL AND {present})"


# The same rules as ``_validate``, as one boolean per row and no messages: a scan that only counts.
# Casts stand in for pg_input_is_valid() and raise on the first malformed value; either way (a bad
# row or an error) the full validation runs and names every problem. The earliest and latest
# event times give the partitions to make (a GROUP BY or DISTINCT on the month would be planned
# for as many groups as rows and sorted on disk). OFFSET 0 keeps the subquery whole, so that each
# time is parsed once. The amounts' characters are checked by one regular expression over the
# three joined: 0.3 s per million rows against 0.7 s for a translate() per amount.
_FAST_SQL = f"""
WITH ccy(code, minor) AS (SELECT * FROM unnest(%(codes)s::text[], %(minor)s::int[]))
SELECT count(*) FILTER (WHERE NOT coalesce(ok, false)),
    date_trunc('month', min(t) AT TIME ZONE 'UTC')::date,
    date_trunc('month', max(t) AT TIME ZONE 'UTC')::date
FROM (
    SELECT s.event_time::timestamptz AS t,
        {_DATE_PREFIX}
        AND p.id IS NOT NULL AND pr.id IS NOT NULL AND c.code IS NOT NULL
        AND length(s.external_id) BETWEEN 1 AND 100
        AND {_fast_amount_ok("quantity", "6")}
        AND {_fast_amount_ok("gross_amount", "c.minor")}
        AND {_fast_amount_ok("tax_amount", "c.minor")}
        AND (s.quantity || s.gross_amount || coalesce(s.tax_amount, '')) !~ '[^0-9.+-]' AS ok
    FROM {STAGING} s
    LEFT JOIN partners_partner p ON p.tenant_id = %(tenant)s
        AND p.id = {_PARTNER_ID}
    LEFT JOIN settlements_product pr ON pr.tenant_id = %(tenant)s AND pr.code = s.product_code
    LEFT JOIN ccy c ON c.code = s.currency
    OFFSET 0
) AS checked
"""


def _months_between(first: date, last: date) -> list[date]:
    """First days of the months from ``first`` to ``last``."""
    index, stop = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index, stop + 1)]


def _validate_fast(tenant: Tenant) -> Validation | None:
    """The months of the staged rows when every one is valid, else None (one counting scan).

    The months are every month from the earliest row to the latest: a month in between without
    rows only gets its (empty) partition a little early.
    """
    codes = currency_minor_units()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _FAST_SQL,
                {"codes": list(codes), "minor": list(codes.values()), "tenant": tenant.pk},
            )
            failing, first, last = cursor.fetchone()
    except DatabaseError:  # a value no cast accepts: the full validation names it
        return None
    if failing:
        return None
    return Validation(0, _months_between(first, last) if first is not None else [])


def _record_rejections(usage_import: UsageImport) -> None:
    raw = " || ',' || ".join(f"coalesce(s.{c}, '')" for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM settlements_usagerejectedrow WHERE usage_import_id = %s",
            [usage_import.pk],
        )
        cursor.execute(
            f"""INSERT INTO settlements_usagerejectedrow
                (tenant_id, usage_import_id, row_number, "column", reason, raw)
            SELECT %s, %s, e.row_number, e.col, left(e.col || ' ' || e.reason, 300),
                   left({raw}, 1000)
            FROM {ERRORS} e JOIN {STAGING} s USING (row_number)
            ORDER BY e.row_number""",
            [usage_import.tenant_id, usage_import.pk],
        )


# ---------------------------------------------------------------- insertion


def _ensure_partitions(months: list[Any]) -> None:
    with connection.cursor() as cursor:
        for month in months:
            cursor.execute("SELECT settlements_usage_partition(%s)", [month])


class _DuplicateInBatch(Exception):
    """The batch repeats an external id: the one-statement path cannot tell which row is first."""


def _insert_sql(*, with_errors: bool, dedupe_in_batch: bool) -> str:
    rows = f"{STAGING} s WHERE s.row_number BETWEEN %(low)s AND %(high)s" + (
        f" AND NOT EXISTS (SELECT 1 FROM {ERRORS} e WHERE e.row_number = s.row_number)"
        if with_errors
        else ""
    )
    if dedupe_in_batch:  # the first row of each external id, in file order
        rows = (
            f"(SELECT DISTINCT ON (s.external_id) s.* FROM {rows}"
            " ORDER BY s.external_id, s.row_number) s WHERE true"
        )
    return f"""
    WITH k AS (
        INSERT INTO settlements_usagekey (tenant_id, external_id)
        SELECT %(tenant)s, s.external_id FROM {rows}
        ON CONFLICT DO NOTHING
        RETURNING external_id
    ), r AS (
        INSERT INTO settlements_usagerecord (tenant_id, partner_id, product_code, event_time,
            quantity, gross_amount, tax_amount, currency, external_id, usage_import_id,
            created_at)
        SELECT %(tenant)s, s.partner::bigint, s.product_code, s.event_time::timestamptz,
            s.quantity::numeric, s.gross_amount::numeric,
            coalesce(nullif(s.tax_amount, '')::numeric, 0), s.currency, s.external_id,
            %(import)s, %(now)s
        FROM k, {rows} AND s.external_id = k.external_id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM r)
    """


def _fast_insert_sql(*, with_errors: bool) -> tuple[str, str]:
    rows = f"{STAGING} s WHERE s.row_number BETWEEN %(low)s AND %(high)s" + (
        f" AND NOT EXISTS (SELECT 1 FROM {ERRORS} e WHERE e.row_number = s.row_number)"
        if with_errors
        else ""
    )
    keys = f"""
    INSERT INTO settlements_usagekey (tenant_id, external_id)
    SELECT %(tenant)s, s.external_id FROM {rows}
    """
    # In partner and time order: the (tenant, partner, event_time) index is then filled page by
    # page rather than at random, and a partner's rows of the month sit together on disk.
    records = f"""
    INSERT INTO settlements_usagerecord (tenant_id, partner_id, product_code, event_time,
        quantity, gross_amount, tax_amount, currency, external_id, usage_import_id, created_at)
    SELECT %(tenant)s, s.partner::bigint, s.product_code, s.event_time::timestamptz,
        s.quantity::numeric, s.gross_amount::numeric,
        coalesce(nullif(s.tax_amount, '')::numeric, 0), s.currency, s.external_id,
        %(import)s, %(now)s
    FROM {rows}
    ORDER BY 2, 4
    """
    return keys, records


def _insert_batch(usage_import: UsageImport, low: int, high: int, *, with_errors: bool) -> int:
    """Insert the valid rows numbered low..high; the number of new records.

    Fast path, for a batch of new records: a plain insert of its keys into the key table (the
    primary key refuses any external id already stored or repeated in the batch) and of its rows
    into the partitions, no join between the two. A plain insert costs less than half of
    ``ON CONFLICT`` (which inserts speculatively, row by row). When the key table refuses a key
    the savepoint rolls back and the batch goes the general way.

    General path, one statement: the keys of the batch go into the key table (``ON CONFLICT DO
    NOTHING``: the database, not a scan of earlier imports, says which are new) and the rows of
    the new keys into the partitions. A batch that repeats an external id inserts that key once
    but would join it to every row carrying it; that shows as more rows than keys, and the batch
    is redone with the first row of each external id only (a sort of the batch that files
    without repeats skip).
    """
    params: dict[str, Any] = {
        "low": low,
        "high": high,
        "tenant": usage_import.tenant_id,
        "import": usage_import.pk,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        keys_sql, records_sql = _fast_insert_sql(with_errors=with_errors)
        # Room to sort the batch in memory (transaction-local).
        cursor.execute("SELECT set_config('work_mem', %s, true)", [SORT_WORK_MEM])
        try:
            with transaction.atomic():
                cursor.execute(keys_sql, params)
                cursor.execute(records_sql, params)
                return int(cursor.rowcount)
        except IntegrityError:  # an external id that is stored already (or twice in the batch)
            pass
        try:
            with transaction.atomic():
                cursor.execute(_insert_sql(with_errors=with_errors, dedupe_in_batch=False), params)
                keys, records = cursor.fetchone()
                if keys != records:
                    raise _DuplicateInBatch
                return int(records)
        except _DuplicateInBatch:
            pass
        cursor.execute(_insert_sql(with_errors=with_errors, dedupe_in_batch=True), params)
        keys, records = cursor.fetchone()
        return int(records)


def _set_time_zone(tenant: Tenant) -> None:
    # Timestamps without an offset are read in the tenant's zone (transaction-local).
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [tenant.timezone])


def _commit_without_waiting() -> None:
    """A batch's commit returns before its WAL is on disk (transaction-local). Safe here: a
    crash can lose only whole batches together with their progress (``rows_processed``), which a
    re-run redoes, and the import's last commit (status done) is synchronous, so it is durable
    only once every batch before it is."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")


# ---------------------------------------------------------------- services


@transaction.atomic
def usage_import_create(
    *, file: Any, policy: str = UsageImport.Policy.ALL_OR_NOTHING, created_by: Any = None
) -> UsageImport:
    """Store an uploaded CSV file and queue its processing (after commit)."""
    from settlements.tasks import usage_import_process

    tenant = require_current_tenant()
    usage_import = UsageImport(
        tenant=tenant,
        source="csv",
        file=file,
        original_name=getattr(file, "name", "")[:255],
        policy=policy,
        created_by=created_by,
    )
    usage_import.full_clean(exclude=["created_by", "file"])
    usage_import.save()
    import_id = usage_import.pk
    # A broker outage never turns a stored upload into a 500: the import stays queued and the
    # requeue beat task publishes it again (partnerhub/core/queue.py; the task is safe to re-run).
    transaction.on_commit(lambda: enqueue(usage_import_process, tenant.pk, import_id), robust=True)
    return usage_import


def _update(usage_import: UsageImport, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(usage_import, name, value)
    UsageImport.objects.filter(pk=usage_import.pk).update(**fields)


def usage_import_run(
    *,
    tenant: Tenant,
    import_id: int,
    chunk_size: int = CHUNK_SIZE,
    batch_size: int | None = None,
) -> UsageImport:
    """Process a stored CSV import: stage, validate, insert in batches.

    Safe to re-run at any point: a finished import is left alone, a second delivery while a
    worker runs the import does nothing, an all-or-nothing import starts over (nothing of an
    earlier attempt landed), a partial one resumes after its last committed batch; duplicates
    by external id are never inserted twice.
    """
    size = batch_size or settings.USAGE_IMPORT_BATCH_SIZE
    with _worker_lock(import_id) as locked:
        if not locked:  # another worker is on it (the message was delivered twice)
            with tenant_context(tenant):
                return UsageImport.objects.get(pk=import_id)
        usage_import = _start(tenant, import_id)
        if usage_import.status != UsageImport.Status.RUNNING:
            return usage_import
        try:
            _process(usage_import, tenant, chunk_size=chunk_size, batch_size=size)
        finally:
            _drop_staging()
        return usage_import


def _lock_sql(function: str) -> str:
    return f"SELECT {function}(hashtextextended(%s || %s::text, 0))"


@contextlib.contextmanager
def _worker_lock(import_id: int) -> Iterator[bool]:
    """The import's session-level advisory lock, held while this worker runs it (``False``:
    another session holds it). PostgreSQL releases it when the session ends, however it ends."""
    params: list[str | int] = [UsageImport.LOCK_PREFIX, import_id]
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql("pg_try_advisory_lock"), params)
        locked = bool(cursor.fetchone()[0])
    try:
        yield locked
    finally:
        if locked and connection.connection is not None:
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute(_lock_sql("pg_advisory_unlock"), params)


def _start(tenant: Tenant, import_id: int) -> UsageImport:
    """Mark the import running (one more attempt), or give up after ``MAX_ATTEMPTS``."""
    with tenant_context(tenant):
        usage_import = UsageImport.objects.select_for_update().get(pk=import_id)
        if usage_import.status in FINISHED:
            return usage_import
        if usage_import.attempts >= MAX_ATTEMPTS:
            _update(
                usage_import,
                status=UsageImport.Status.FAILED,
                finished_at=timezone.now(),
                **_failure(
                    usage_import,
                    f"The import stopped {usage_import.attempts} times before it finished "
                    "(worker or database lost each time); it is not tried again.",
                ),
            )
            return usage_import
        fields: dict[str, Any] = {
            "status": UsageImport.Status.RUNNING,
            "attempts": usage_import.attempts + 1,
        }
        if usage_import.policy == UsageImport.Policy.ALL_OR_NOTHING:
            fields.update(rows_processed=0, inserted=0)  # nothing of an earlier attempt landed
        _update(usage_import, **fields)
        return usage_import


def _process(
    usage_import: UsageImport, tenant: Tenant, *, chunk_size: int, batch_size: int
) -> None:
    with tenant_context(tenant):
        _set_time_zone(tenant)
        with usage_import.file.open("rb") as stream:
            try:
                total = stage_csv(stream, chunk_size=chunk_size)
            except UsageImportError as exc:
                _reject_whole(usage_import, exc)
                return
        checked = _validate_fast(tenant) or _validate(tenant)
        bad = checked.bad
        _record_rejections(usage_import)
        _update(usage_import, rows_total=total, rejected=bad)
        if bad and usage_import.policy == UsageImport.Policy.ALL_OR_NOTHING:
            _update(
                usage_import,
                status=UsageImport.Status.REJECTED,
                rows_processed=total,
                error=f"{bad} row(s) rejected; nothing was imported (all or nothing).",
                finished_at=timezone.now(),
            )
            return
    if usage_import.rows_processed < total:
        # Its own transaction: the partition function serialises on a lock held to commit.
        with tenant_context(tenant):
            _ensure_partitions(checked.months)
    if usage_import.policy == UsageImport.Policy.ALL_OR_NOTHING:
        _insert_at_once(usage_import, tenant, total=total, batch_size=batch_size)
    else:
        _insert_committing_batches(
            usage_import, tenant, total=total, batch_size=batch_size, with_errors=bad > 0
        )


def _insert_at_once(
    usage_import: UsageImport, tenant: Tenant, *, total: int, batch_size: int
) -> None:
    """All or nothing: every batch and the import's "done" commit together."""
    progress = _SideProgress(tenant, usage_import.pk)
    try:
        with tenant_context(tenant):
            _set_time_zone(tenant)
            inserted = 0
            for low in range(1, total + 1, batch_size):
                high = min(low + batch_size - 1, total)
                inserted += _insert_batch(usage_import, low, high, with_errors=False)
                if high < total:
                    progress.report(high)
            _update(
                usage_import,
                status=UsageImport.Status.DONE,
                rows_processed=total,
                inserted=inserted,
                duplicates=total - inserted,
                finished_at=timezone.now(),
            )
    finally:
        progress.close()


def _insert_committing_batches(
    usage_import: UsageImport, tenant: Tenant, *, total: int, batch_size: int, with_errors: bool
) -> None:
    """Partial policy: each batch commits with the progress a re-run resumes from."""
    low = usage_import.rows_processed + 1
    while low <= total:
        high = min(low + batch_size - 1, total)
        with tenant_context(tenant):
            _set_time_zone(tenant)
            _commit_without_waiting()
            new = _insert_batch(usage_import, low, high, with_errors=with_errors)
            current = UsageImport.objects.select_for_update().get(pk=usage_import.pk)
            _update(usage_import, rows_processed=high, inserted=current.inserted + new)
        low = high + 1
    with tenant_context(tenant):
        _update(
            usage_import,
            status=UsageImport.Status.DONE,
            rows_processed=total,
            duplicates=total - usage_import.rejected - usage_import.inserted,
            finished_at=timezone.now(),
        )


class _SideProgress:
    """Progress of an all-or-nothing import, written on a database connection of its own: the
    import's rows and its row are invisible to others until the one transaction commits, but the
    progress bar should move. Opened at the first report (a one-batch import never needs it);
    best effort: without it the import goes on, its bar still until the end."""

    def __init__(self, tenant: Tenant, import_id: int) -> None:
        self.tenant_id = tenant.pk
        self.import_id = import_id
        self.db: BaseDatabaseWrapper | None = None
        self.broken = False

    def report(self, rows_processed: int) -> None:
        if self.broken:
            return
        try:
            if self.db is None:
                self.db = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.db.cursor() as cursor:
                    # For the whole session: the connection is this import's alone.
                    cursor.execute(
                        "SELECT set_config(%s, %s, false)", [TENANT_SETTING, str(self.tenant_id)]
                    )
            with self.db.cursor() as cursor:
                cursor.execute(
                    "UPDATE settlements_usageimport SET rows_processed = %s WHERE id = %s",
                    [rows_processed, self.import_id],
                )
        except DatabaseError:
            logger.warning("Usage import %s: progress not reported", self.import_id, exc_info=True)
            self.broken = True

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(DatabaseError):
                self.db.close()


def _failure(usage_import: UsageImport, error: str) -> dict[str, Any]:
    """The fields of a failed import: the error and what stays of it, by policy."""
    error = error.strip()[:1500]
    if usage_import.policy == UsageImport.Policy.ALL_OR_NOTHING:
        note = "Nothing was imported (all or nothing); upload the file again."
        return {"error": f"{error} {note}", "rows_processed": 0, "inserted": 0}
    note = (
        f"Rows 1 to {usage_import.rows_processed} were processed and the "
        f"{usage_import.inserted} record(s) they added stay; upload the file again for the rest "
        "(records already stored are recognised by their external id)."
    )
    return {"error": f"{error} {note}"}


def _reject_whole(usage_import: UsageImport, exc: UsageImportError) -> None:
    UsageRejectedRow.objects.filter(usage_import=usage_import).delete()
    UsageRejectedRow.objects.create(
        tenant=usage_import.tenant,
        usage_import=usage_import,
        row_number=exc.row or 0,
        column="",
        reason=exc.message[:300],
    )
    _update(
        usage_import,
        status=UsageImport.Status.REJECTED,
        error=exc.message,
        rejected=0,
        finished_at=timezone.now(),
    )


def usage_import_fail(*, tenant: Tenant, import_id: int, error: str) -> None:
    """Mark an import failed after an unexpected error (the task gave up), saying what stays."""
    with tenant_context(tenant):
        usage_import = (
            UsageImport.objects.select_for_update()
            .filter(pk=import_id)
            .exclude(status__in=[UsageImport.Status.DONE, UsageImport.Status.REJECTED])
            .first()
        )
        if usage_import is not None:
            _update(
                usage_import,
                status=UsageImport.Status.FAILED,
                finished_at=timezone.now(),
                **_failure(usage_import, error),
            )


@transaction.atomic
def usage_bulk_ingest(
    *,
    rows: list[Mapping[str, Any]],
    policy: str = UsageImport.Policy.ALL_OR_NOTHING,
    created_by: Any = None,
) -> tuple[UsageImport, list[RowError]]:
    """Ingest up to 10,000 JSON rows synchronously through the same SQL path as files."""
    tenant = require_current_tenant()
    if len(rows) > BULK_MAX_ROWS:
        raise ValidationError({"rows": f"At most {BULK_MAX_ROWS} rows per request."})
    usage_import = UsageImport(
        tenant=tenant, source="api", policy=policy, created_by=created_by, rows_total=len(rows)
    )
    usage_import.full_clean(exclude=["created_by", "file"])
    usage_import.save()
    try:
        _set_time_zone(tenant)
        total = stage_rows(rows)
        checked = _validate(tenant)
        bad = checked.bad
        errors = _errors()
        _record_rejections(usage_import)
        if bad and policy == UsageImport.Policy.ALL_OR_NOTHING:
            _update(
                usage_import,
                status=UsageImport.Status.REJECTED,
                rows_processed=total,
                rejected=bad,
                error=f"{bad} row(s) rejected; nothing was imported (all or nothing).",
                finished_at=timezone.now(),
            )
            return usage_import, errors
        _ensure_partitions(checked.months)
        new = _insert_batch(usage_import, 1, total, with_errors=bad > 0) if total else 0
        _update(
            usage_import,
            status=UsageImport.Status.DONE,
            rows_processed=total,
            rejected=bad,
            inserted=new,
            duplicates=total - bad - new,
            finished_at=timezone.now(),
        )
        return usage_import, errors
    finally:
        _drop_staging()


def _errors(limit: int | None = None) -> list[RowError]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT row_number, col, reason FROM {ERRORS} ORDER BY row_number, col "
            + ("LIMIT %s" if limit else ""),
            [limit] if limit else [],
        )
        return [RowError(int(r), c, m) for r, c, m in cursor.fetchall()]


def usage_csv_preview(
    *, stream: IO[bytes], rows: int = PREVIEW_ROWS, max_errors: int = 200
) -> Preview:
    """Dry run of a CSV file: its first rows as parsed and the problems of every row.

    Nothing is written: the staging happens inside a transaction that is rolled back.
    """
    tenant = require_current_tenant()
    result: Preview | None = None
    try:
        with transaction.atomic():
            _set_time_zone(tenant)
            total = stage_csv(stream)
            bad = validate_staged(tenant)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT row_number, {', '.join(COLUMNS)} FROM {STAGING} "
                    "ORDER BY row_number LIMIT %s",
                    [rows],
                )
                first = [
                    dict(zip(("row_number", *COLUMNS), r, strict=True)) for r in cursor.fetchall()
                ]
            result = Preview(COLUMNS, first, _errors(max_errors), total, bad)
            transaction.set_rollback(True)
    finally:
        _drop_staging()
    assert result is not None
    return result


def open_upload(file: Any) -> IO[bytes]:
    """A binary stream over an uploaded file (Django's UploadedFile or raw bytes)."""
    if isinstance(file, bytes):
        return io.BytesIO(file)
    file.seek(0)
    return file
