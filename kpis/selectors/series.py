"""Daily series for charts: values per partner, the target line, drift alerts to mark."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from kpis.models import Aggregation, DriftAlert, KpiDefinition
from kpis.periods import Period
from kpis.selectors.definitions import TARGET_LATERAL_SQL
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner

# The daily value of a measured KPI, or of a ratio computed day by day from its operands.
_VALUES_SQL = """
SELECT m.partner_id, m.date,
       CASE WHEN d.aggregation = 'ratio'
            THEN n.value / NULLIF(m.value, 0) * d.scale ELSE m.value END
  FROM kpis_kpidefinition d
  JOIN kpis_kpimeasurement m
    ON m.tenant_id = d.tenant_id
   AND m.kpi_id = CASE WHEN d.aggregation = 'ratio' THEN d.denominator_id ELSE d.id END
  LEFT JOIN kpis_kpimeasurement n
    ON d.aggregation = 'ratio' AND n.tenant_id = d.tenant_id AND n.kpi_id = d.numerator_id
   AND n.partner_id = m.partner_id AND n.date = m.date
 WHERE d.tenant_id = %(tenant)s AND d.id = %(kpi)s AND m.partner_id = ANY(%(partners)s::bigint[])
   AND m.date >= %(start)s AND m.date <= %(end)s
 ORDER BY m.partner_id, m.date
"""

# The target in force on each month's first day, per partner: the daily equivalent for sums
# and for ratios of a sum to a level (complaints per 1,000 subscribers), like the values.
_TARGETS_SQL = """
SELECT p.id, months.first::date,
       CASE WHEN d.aggregation = 'sum'
                 OR (nd.aggregation = 'sum' AND dd.aggregation <> 'sum')
            THEN tg.target_value
                 / extract(day FROM months.first + interval '1 month' - interval '1 day')
            ELSE tg.target_value END
  FROM partners_partner p
  JOIN kpis_kpidefinition d ON d.tenant_id = p.tenant_id AND d.id = %(kpi)s
  LEFT JOIN kpis_kpidefinition nd ON d.aggregation = 'ratio' AND nd.id = d.numerator_id
  LEFT JOIN kpis_kpidefinition dd ON d.aggregation = 'ratio' AND dd.id = d.denominator_id
  CROSS JOIN generate_series(%(first_month)s::date, %(end)s::date, interval '1 month')
       AS months(first)
  {lateral}
 WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(partners)s::bigint[])
"""


@dataclass
class Series:
    partner: Partner
    values: list[tuple[date, Decimal | None]] = field(default_factory=list)
    targets: dict[date, Decimal | None] = field(default_factory=dict)  # month's first day


def kpi_series(
    *, kpi: KpiDefinition, partners: list[Partner], start: date, end: date
) -> tuple[list[Series], list[DriftAlert]]:
    """Daily values of ``kpi`` for ``partners`` from ``start`` to ``end`` (inclusive), the target
    line, and the drift alerts in the range. Three queries."""
    tenant = require_current_tenant()
    series = {p.pk: Series(partner=p) for p in partners}
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "kpi": kpi.pk,
        "partners": list(series),
        "start": start,
        "end": end,
        "first_month": start.replace(day=1),
        "kind": "month",
    }
    with connection.cursor() as cursor:
        cursor.execute(_VALUES_SQL, params)
        for partner_id, day, value in cursor.fetchall():
            series[partner_id].values.append((day, value))
        # The lateral judges each month on its first day: pass the month column as "on".
        lateral = TARGET_LATERAL_SQL.replace("%(on)s", "months.first::date")
        cursor.execute(_TARGETS_SQL.format(lateral=lateral), params)
        for partner_id, month, value in cursor.fetchall():
            series[partner_id].targets[month] = value
    alerts = list(
        DriftAlert.objects.filter(
            kpi=kpi, partner_id__in=list(series), detected_on__gte=start, detected_on__lte=end
        ).order_by("detected_on")
    )
    return list(series.values()), alerts


def chart_payload(
    *, kpi: KpiDefinition, series: list[Series], alerts: list[DriftAlert], start: date, end: date
) -> dict[str, Any]:
    """JSON for static/js/kpis.js: one label per day, a dataset per partner and target line."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    labels = [d.isoformat() for d in days]
    datasets = []
    daily_target = kpi.aggregation == Aggregation.SUM or kpi.ratio_accumulates
    for item in series:
        by_day = {d: v for d, v in item.values}
        datasets.append(
            {
                "label": str(item.partner),
                "partner": item.partner.pk,
                "kind": "values",
                "data": [_num(by_day.get(d)) for d in days],
            }
        )
        if item.targets and any(v is not None for v in item.targets.values()):
            datasets.append(
                {
                    "label": f"Target · {item.partner}"
                    + (" (daily equivalent)" if daily_target else ""),
                    "partner": item.partner.pk,
                    "kind": "target",
                    "data": [_num(item.targets.get(d.replace(day=1))) for d in days],
                }
            )
    names = {s.partner.pk: str(s.partner) for s in series}
    return {
        "kpi": {"key": kpi.key, "name": kpi.name, "unit": kpi.unit},
        "daily_target": daily_target,
        "labels": labels,
        "datasets": datasets,
        "alerts": [
            {
                "id": a.pk,
                "date": a.detected_on.isoformat(),
                "partner": names.get(a.partner_id, ""),
                "kind": a.get_kind_display(),
                "status": a.status,
                "text": a.explanation,
            }
            for a in alerts
        ],
    }


def _num(value: Decimal | None) -> float | None:
    # Chart coordinates only: the stored values stay Decimal.
    return None if value is None else round(float(value), 4)


def default_range(today: date, days: int = 180) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


def period_range(period: Period) -> tuple[date, date]:
    return period.start, period.end - timedelta(days=1)
