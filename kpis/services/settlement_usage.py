"""KPIs computed from settlement usage: a day's usage per partner, summed in SQL.

A definition with ``source = settlement`` names what the records add up to
(``settlement_measure``: gross or net amount in the KPI's currency, quantity, or the number of
records) and optionally one product code. ``kpi_settlement_measurements_refresh`` recomputes
those daily values for a date range with one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``:
re-running it is harmless, and usage that arrives late is picked up by the next refresh (the
nightly drift job refreshes the last ``REFRESH_DAYS`` days before it scans). Days are the
tenant's local days, read from the usage days (``settlements.UsageDay``, the records already
summed per local day); a day without usage records has no value (a gap, not a zero).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from kpis.models import (
    STATEMENT_MEASURES,
    Aggregation,
    KpiDefinition,
    KpiMeasurement,
    SettlementMeasure,
    Source,
)
from partnerhub.tenancy.context import require_current_tenant

REFRESH_DAYS = 7
STATEMENT_LOOKBACK_MONTHS = 12
COUNTED_STATUSES = ["approved", "paid"]

_REFRESH_SQL = """
WITH defs AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(measures)s::text[], %(products)s::text[],
                         %(currencies)s::text[]) AS d(kpi_id, measure, product, currency)
), usage AS (
    SELECT d.partner_id, d.day, d.product_code, d.currency, sum(d.gross_amount) AS gross,
           sum(d.gross_amount - d.tax_amount) AS net, sum(d.quantity) AS quantity,
           sum(d.record_count) AS records
      FROM settlements_usageday d
     WHERE d.tenant_id = %(t)s AND d.day >= %(start)s AND d.day <= %(end)s
     GROUP BY 1, 2, 3, 4
)
INSERT INTO kpis_kpimeasurement
    (tenant_id, partner_id, kpi_id, date, value, origin, submitted_by_id, submitted_at)
SELECT %(t)s, usage.partner_id, d.kpi_id, usage.day,
       sum(CASE d.measure WHEN 'gross_amount' THEN usage.gross
                          WHEN 'net_amount' THEN usage.net
                          WHEN 'quantity' THEN usage.quantity
                          ELSE usage.records END),
       %(origin)s, NULL, now()
  FROM usage
  JOIN defs d
    ON (d.product = '' OR d.product = usage.product_code)
   AND (d.measure NOT IN ('gross_amount', 'net_amount') OR d.currency = usage.currency)
 GROUP BY usage.partner_id, d.kpi_id, usage.day
ON CONFLICT (tenant_id, partner_id, kpi_id, date) DO UPDATE
   SET value = EXCLUDED.value, origin = EXCLUDED.origin, submitted_by_id = NULL,
       submitted_at = EXCLUDED.submitted_at
 WHERE kpis_kpimeasurement.value IS DISTINCT FROM EXCLUDED.value
    OR kpis_kpimeasurement.origin IS DISTINCT FROM EXCLUDED.origin
"""


# The months' approved and paid statements per partner and currency, upserted as one value per
# (partner, KPI, month) on the month's first day; values of the window without such a statement
# any more are deleted (both CTEs see the same snapshot and touch disjoint rows).
_STATEMENTS_SQL = """
WITH defs AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(measures)s::text[], %(currencies)s::text[])
        AS d(kpi_id, measure, currency)
), st AS (
    SELECT s.partner_id, s.month, s.currency, sum(s.partner_share) AS share,
           sum(s.basis_total) AS basis
      FROM settlements_statement s
     WHERE s.tenant_id = %(t)s AND s.status = ANY(%(statuses)s)
       AND s.month >= %(m0)s AND s.month <= %(m1)s
     GROUP BY 1, 2, 3
), upserted AS (
    INSERT INTO kpis_kpimeasurement
        (tenant_id, partner_id, kpi_id, date, value, origin, submitted_by_id, submitted_at)
    SELECT %(t)s, st.partner_id, d.kpi_id, st.month,
           CASE d.measure WHEN 'statement_basis' THEN st.basis ELSE st.share END,
           %(origin)s, NULL, now()
      FROM st JOIN defs d ON d.currency = st.currency
    ON CONFLICT (tenant_id, partner_id, kpi_id, date) DO UPDATE
       SET value = EXCLUDED.value, origin = EXCLUDED.origin, submitted_by_id = NULL,
           submitted_at = EXCLUDED.submitted_at
     WHERE kpis_kpimeasurement.value IS DISTINCT FROM EXCLUDED.value
        OR kpis_kpimeasurement.origin IS DISTINCT FROM EXCLUDED.origin
    RETURNING 1
), removed AS (
    DELETE FROM kpis_kpimeasurement m
     USING defs d
     WHERE m.tenant_id = %(t)s AND m.kpi_id = d.kpi_id
       AND m.date >= %(m0)s AND m.date <= %(m1)s
       AND NOT EXISTS (
           SELECT 1 FROM st
            WHERE st.partner_id = m.partner_id AND st.month = m.date
              AND st.currency = d.currency
       )
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed)
"""


def settlement_kpis() -> list[KpiDefinition]:
    """The active tenant's active KPIs computed from settlement usage."""
    return list(
        KpiDefinition.objects.filter(is_active=True, source=Source.SETTLEMENT)
        .exclude(aggregation=Aggregation.RATIO)
        .exclude(settlement_measure="")
        .order_by("pk")
    )


@transaction.atomic
def kpi_settlement_measurements_refresh(*, start: date, end: date) -> int:
    """Recompute the daily values of settlement-sourced KPIs from ``start`` to ``end``
    (inclusive, tenant-local days); returns the rows inserted or changed. Idempotent."""
    if end < start:
        raise ValidationError({"end": "The end date must not be before the start date."})
    everything = settlement_kpis()
    definitions = [d for d in everything if d.settlement_measure not in STATEMENT_MEASURES]
    changed = _statement_measurements_refresh(
        definitions=[d for d in everything if d.settlement_measure in STATEMENT_MEASURES],
        start=start,
        end=end,
    )
    if not definitions:
        return changed
    params: dict[str, Any] = {
        "t": require_current_tenant().pk,
        "start": start,
        "end": end,
        "origin": KpiMeasurement.Origin.SETTLEMENT,
        "ids": [d.pk for d in definitions],
        "measures": [d.settlement_measure for d in definitions],
        "products": [d.settlement_product_code for d in definitions],
        "currencies": [
            d.currency
            if d.settlement_measure
            in (SettlementMeasure.GROSS_AMOUNT, SettlementMeasure.NET_AMOUNT)
            else ""
            for d in definitions
        ],
    }
    with connection.cursor() as cursor:
        cursor.execute(_REFRESH_SQL, params)
        return changed + cursor.rowcount


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _statement_measurements_refresh(
    *, definitions: list[KpiDefinition], start: date, end: date
) -> int:
    """The statement-history KPIs' monthly values from ``STATEMENT_LOOKBACK_MONTHS`` months
    before ``start`` to ``end``'s month; returns the rows inserted, changed or removed."""
    if not definitions:
        return 0
    params: dict[str, Any] = {
        "t": require_current_tenant().pk,
        "origin": KpiMeasurement.Origin.SETTLEMENT,
        "statuses": COUNTED_STATUSES,
        "m0": _add_months(start.replace(day=1), -STATEMENT_LOOKBACK_MONTHS),
        "m1": end.replace(day=1),
        "ids": [d.pk for d in definitions],
        "measures": [d.settlement_measure for d in definitions],
        "currencies": [d.currency for d in definitions],
    }
    with connection.cursor() as cursor:
        cursor.execute(_STATEMENTS_SQL, params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def kpi_statement_measurements_refresh(*, month: date) -> int:
    """Refresh the statement-history KPIs after statements of ``month`` were approved or paid
    (the nightly refresh also catches them)."""
    definitions = [d for d in settlement_kpis() if d.settlement_measure in STATEMENT_MEASURES]
    return _statement_measurements_refresh(
        definitions=definitions,
        start=_add_months(month.replace(day=1), STATEMENT_LOOKBACK_MONTHS),
        end=month,
    )
