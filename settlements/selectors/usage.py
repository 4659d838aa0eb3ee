"""Reads of usage, imports, products and FX rates (scoped to the active tenant)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from partnerhub.tenancy.context import require_current_tenant
from settlements.models import FxRate, Product, UsageImport, UsageRecord, UsageRejectedRow


def usage_record_list() -> QuerySet[UsageRecord]:
    return UsageRecord.objects.select_related("partner").order_by("-event_time", "-id")


def usage_import_list() -> QuerySet[UsageImport]:
    return UsageImport.objects.select_related("created_by").order_by("-created_at", "-id")


# Whether a session holds the import's worker lock (see UsageImport.LOCK_PREFIX): a bigint
# advisory lock shows in pg_locks as its high half (classid) and low half (objid), objsubid 1.
_WORKER_LOCK_HELD = """EXISTS (
    SELECT 1
    FROM pg_locks l, hashtextextended(%s || settlements_usageimport.id::text, 0) AS k(key)
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = ((k.key >> 32) & 4294967295)::oid
      AND l.objid = (k.key & 4294967295)::oid)"""


def usage_imports_orphaned(*, created_before: datetime) -> QuerySet[UsageImport]:
    """Imports created before ``created_before`` and marked running that no worker runs: no
    session holds their lock (the worker was killed, or the database restarted under it)."""
    return (
        UsageImport.objects.filter(status=UsageImport.Status.RUNNING, created_at__lt=created_before)
        .annotate(
            worker_alive=RawSQL(  # noqa: S611 - a constant; the prefix is a parameter
                _WORKER_LOCK_HELD, [UsageImport.LOCK_PREFIX], output_field=BooleanField()
            )
        )
        .filter(worker_alive=False)
        .order_by("pk")
    )


def usage_rejected_row_list(*, usage_import: UsageImport) -> QuerySet[UsageRejectedRow]:
    return UsageRejectedRow.objects.filter(usage_import=usage_import).order_by(
        "row_number", "column", "id"
    )


def product_list() -> QuerySet[Product]:
    return Product.objects.order_by("code")


def fx_rate_list() -> QuerySet[FxRate]:
    return FxRate.objects.order_by("-date", "base", "quote")


def fx_rate_get(*, on: date, base: str, quote: str) -> Decimal | None:
    """How many ``quote`` one ``base`` costs on ``on``: direct, inverse or 1 for the same code.

    ``None`` when the tenant has no rate for that day in either direction. The inverse is
    computed with 20 significant digits (``1 / rate``), enough for any later rounding.
    """
    if base == quote:
        return Decimal(1)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT CASE WHEN base = %(b)s THEN rate ELSE round(1 / rate, 20) END
            FROM settlements_fxrate
            WHERE tenant_id = %(t)s AND date = %(d)s
              AND ((base = %(b)s AND quote = %(q)s) OR (base = %(q)s AND quote = %(b)s))
            ORDER BY base = %(b)s DESC LIMIT 1""",
            {"t": require_current_tenant().pk, "d": on, "b": base, "q": quote},
        )
        row = cursor.fetchone()
    return None if row is None else Decimal(row[0]).normalize()
