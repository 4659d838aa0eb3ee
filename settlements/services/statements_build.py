"""Build the draft statements of a chunk of partners for a month: SQL aggregates → engine → rows.

The usage of the month is converted to each partner's plan currency and summed per partner and
product in ONE set-based query (usage ⋈ the run's FX rates by day and currency, GROUP BY); the
engine applies the plan to those few aggregates. Nothing loops over usage rows in Python.

Settlement key (each usage record settled in exactly one statement): a statement records the usage
imports whose rows of its partner and month it covered (``covered_imports``; imports land
atomically, so an import is either wholly visible to a run or not at all). While a statement is a
draft it is recomputed from all the month's rows. Once it is frozen (status != draft), rows of that
partner and month from any other import are *late*: the next month that is not frozen settles them
in ``late_usage`` lines and records their imports in ``late_imports``, so no later run settles them
again.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from kpis.periods import Period
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner
from settlements.engine import Aggregate, Result, settle
from settlements.models import SettlementRun, Statement, StatementLine
from settlements.selectors.plans import PartnerPlan, month_last_day, partner_plans_for_month

REASON_NO_RULE = "no_rule_for_product"
REASON_NO_FX = "missing_fx_rate"
LATE_LOOKBACK_MONTHS = 12


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in the tenant's time zone, as aware datetimes."""
    zone = ZoneInfo(tz)
    nxt = month_last_day(month) + timedelta(days=1)
    return (
        datetime.combine(month, time.min, tzinfo=zone),
        datetime.combine(nxt, time.min, tzinfo=zone),
    )


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


_AGGREGATE_SQL = """
WITH pp AS (
    SELECT * FROM jsonb_to_recordset(%(pp)s::jsonb)
        AS x(partner_id bigint, ccy text, net boolean, period_end boolean)
), fx AS (
    SELECT * FROM jsonb_to_recordset(%(fx)s::jsonb) AS x(day date, src text, dst text, rate numeric)
), late AS (
    SELECT * FROM jsonb_to_recordset(%(late)s::jsonb)
        AS x(partner_id bigint, t0 timestamptz, t1 timestamptz, month_end date, excluded bigint[])
), usage AS (
    SELECT u.partner_id, u.product_code, u.currency, u.quantity, false AS is_late,
           u.gross_amount - CASE WHEN pp.net THEN u.tax_amount ELSE 0 END AS basis,
           COALESCE(u.usage_import_id, 0) AS imp, pp.ccy,
           CASE WHEN pp.period_end THEN %(month_end)s::date
                ELSE (u.event_time AT TIME ZONE %(tz)s)::date END AS fx_day
    FROM settlements_usagerecord u LEFT JOIN pp ON pp.partner_id = u.partner_id
    WHERE u.tenant_id = %(tenant)s AND u.partner_id = ANY(%(partners)s)
      AND u.event_time >= %(t0)s AND u.event_time < %(t1)s
    UNION ALL
    SELECT u.partner_id, u.product_code, u.currency, u.quantity, true,
           u.gross_amount - CASE WHEN pp.net THEN u.tax_amount ELSE 0 END,
           COALESCE(u.usage_import_id, 0), pp.ccy,
           CASE WHEN pp.period_end THEN late.month_end
                ELSE (u.event_time AT TIME ZONE %(tz)s)::date END
    FROM late
    JOIN settlements_usagerecord u
      ON u.tenant_id = %(tenant)s AND u.partner_id = late.partner_id
     AND u.event_time >= late.t0 AND u.event_time < late.t1
    LEFT JOIN pp ON pp.partner_id = u.partner_id
    WHERE NOT (COALESCE(u.usage_import_id, 0) = ANY(late.excluded))
)
SELECT r.partner_id, r.product_code, r.is_late, r.currency, fx.rate IS NOT NULL AS has_fx,
       count(*), sum(r.quantity), sum(r.basis), sum(r.basis * fx.rate),
       min(fx.rate), max(fx.rate), array_agg(DISTINCT r.imp)
FROM usage r
LEFT JOIN fx ON fx.day = r.fx_day AND fx.src = r.currency AND fx.dst = r.ccy
GROUP BY 1, 2, 3, 4, 5
"""


def _fx_rows(fx_rates: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    rows = []
    for day, pairs in fx_rates.items():
        for pair, rate in pairs.items():
            src, dst = pair.split("/")
            rows.append({"day": day, "src": src, "dst": dst, "rate": rate})
    return rows


def _late_windows(*, partner_ids: Sequence[int], month: date, tz: str) -> list[dict[str, Any]]:
    """For each partner, the frozen months right before ``month`` whose late rows it settles.

    A frozen month M's late rows go to the first month after M that is not frozen; so ``month``
    takes them from the unbroken run of frozen months just before it. Excluded imports: those M
    covered itself and those already settled late by a frozen month between M and ``month``.
    """
    frozen = (
        Statement.objects.filter(
            partner_id__in=partner_ids,
            month__lt=month,
            month__gte=add_months(month, -LATE_LOOKBACK_MONTHS),
        )
        .exclude(status=Statement.Status.DRAFT)
        .values_list("partner_id", "month", "covered_imports", "late_imports")
    )
    by_partner: dict[int, dict[date, tuple[list[int], list[int]]]] = defaultdict(dict)
    for pid, m, covered, late in frozen:
        by_partner[pid][m] = (covered, late)
    windows = []
    for pid, months in by_partner.items():
        m = add_months(month, -1)
        settled_later: set[int] = set()
        while m in months:
            covered, late = months[m]
            t0, t1 = month_bounds(m, tz)
            windows.append(
                {
                    "partner_id": pid,
                    "t0": t0.isoformat(),
                    "t1": t1.isoformat(),
                    "month_end": month_last_day(m).isoformat(),
                    "excluded": sorted(set(covered) | settled_later),
                }
            )
            settled_later |= set(late)
            m = add_months(m, -1)
    return windows


def _kpi_met(*, plans: dict[int, PartnerPlan], month: date) -> dict[int, dict[str, bool | None]]:
    wanted = [pid for pid, pp in plans.items() if pp.version and pp.content.get("kpi_adjustments")]
    if not wanted:
        return {}
    from kpis.selectors.scorecards import kpi_scorecards

    partners = list(Partner.objects.filter(pk__in=wanted))
    cards = kpi_scorecards(partners=partners, period=Period.month(month.year, month.month))
    out: dict[int, dict[str, bool | None]] = {}
    for card in cards:
        out[card.partner.pk] = {
            line.kpi.key: None if line.attainment is None else line.attainment >= 100
            for line in card.lines
        }
    return out


def _hash(result: Result) -> str:
    payload = [
        result.currency,
        result.direction,
        str(result.basis_total),
        str(result.partner_share),
        [(ln.kind, ln.product_code, str(ln.amount), ln.description) for ln in result.lines],
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


@transaction.atomic
def statements_build(*, run: SettlementRun, partner_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Replace the month's draft statements of ``partner_ids``; returns their unsettled usage.

    Frozen (non-draft) statements are never touched: their partners are skipped here and new
    usage of their month is settled as late usage in the next open month.
    """
    tenant = require_current_tenant()
    tz = tenant.timezone
    month = run.month
    ids = sorted(set(partner_ids))
    frozen = set(
        Statement.objects.filter(partner_id__in=ids, month=month)
        .exclude(status=Statement.Status.DRAFT)
        .values_list("partner_id", flat=True)
    )
    ids = [pid for pid in ids if pid not in frozen]
    if not ids:
        return []
    plans = partner_plans_for_month(partner_ids=ids, month=month)
    pp_rows = [
        {
            "partner_id": pid,
            "ccy": pp.content["currency"],
            "net": pp.content["basis"] == "net",
            "period_end": pp.content["fx"] == "period_end",
        }
        for pid, pp in plans.items()
        if pp.version is not None
    ]
    late = _late_windows(partner_ids=ids, month=month, tz=tz)
    t0, t1 = month_bounds(month, tz)
    with connection.cursor() as cursor:
        cursor.execute(
            _AGGREGATE_SQL,
            {
                "pp": json.dumps(pp_rows),
                "fx": json.dumps(_fx_rows(run.fx_rates)),
                "late": json.dumps(late),
                "tenant": tenant.pk,
                "partners": ids,
                "t0": t0,
                "t1": t1,
                "tz": tz,
                "month_end": month_last_day(month),
            },
        )
        rows = cursor.fetchall()

    unsettled: list[dict[str, Any]] = []
    # (partner, product, is_late) → converted sums and trace of the currencies they came from.
    sums: dict[tuple[int, str, bool], dict[str, Any]] = {}
    imports: dict[tuple[int, bool], set[int]] = defaultdict(set)
    for pid, product, is_late, ccy, has_fx, count, qty, basis, converted, lo, hi, imps in rows:
        plan = plans[pid]
        if plan.version is None or not has_fx:
            unsettled.append(
                {
                    "partner_id": pid,
                    "product_code": product,
                    "currency": ccy,
                    "reason": plan.reason if plan.version is None else REASON_NO_FX,
                    "record_count": count,
                    "basis": str(basis),
                    "quantity": str(qty),
                    "late": is_late,
                }
            )
            if plan.version is not None:
                imports[(pid, is_late)].update(imps)
            continue
        imports[(pid, is_late)].update(imps)
        entry = sums.setdefault(
            (pid, product, is_late),
            {"basis": Decimal(0), "quantity": Decimal(0), "count": 0, "fx": {}},
        )
        entry["basis"] += converted
        entry["quantity"] += qty
        entry["count"] += count
        entry["fx"][ccy] = {
            "basis": str(basis),
            "converted": str(converted),
            "rate_min": str(lo),
            "rate_max": str(hi),
        }

    kpi = _kpi_met(plans=plans, month=month)
    Statement.objects.filter(
        partner_id__in=ids, month=month, status=Statement.Status.DRAFT
    ).delete()
    statements: list[Statement] = []
    line_rows: list[list[StatementLine]] = []
    for pid in ids:
        plan = plans[pid]
        if plan.version is None:
            continue
        own = [
            Aggregate(k[1], v["basis"], v["quantity"], v["count"], v["fx"])
            for k, v in sums.items()
            if k[0] == pid and not k[2]
        ]
        late_aggs = [
            Aggregate(k[1], v["basis"], v["quantity"], v["count"], v["fx"])
            for k, v in sums.items()
            if k[0] == pid and k[2]
        ]
        version = plan.version
        result = settle(
            plan=version.content,
            aggregates=own,
            late=late_aggs,
            kpi_met=kpi.get(pid, {}),
            plan_version=f"{version.plan.name} v{version.number}",
        )
        for agg in result.unsettled:
            unsettled.append(
                {
                    "partner_id": pid,
                    "product_code": agg.product_code,
                    "currency": result.currency,
                    "reason": REASON_NO_RULE,
                    "record_count": agg.record_count,
                    "basis": str(agg.basis),
                    "quantity": str(agg.quantity),
                    "late": agg in late_aggs,
                }
            )
        statements.append(
            Statement(
                tenant=tenant,
                partner_id=pid,
                month=month,
                run=run,
                plan_version=version,
                currency=result.currency,
                direction=result.direction,
                basis_total=result.basis_total,
                partner_share=result.partner_share,
                csp_share=result.csp_share,
                content_hash=_hash(result),
                covered_imports=sorted(imports.get((pid, False), set())),
                late_imports=sorted(imports.get((pid, True), set())),
            )
        )
        usage_link = {
            "partner": pid,
            "from": t0.isoformat(),
            "to": t1.isoformat(),
        }
        line_rows.append(
            [
                StatementLine(
                    tenant=tenant,
                    position=i,
                    kind=line.kind,
                    product_code=line.product_code,
                    description=line.description[:300],
                    basis_amount=line.basis_amount,
                    quantity=line.quantity,
                    record_count=line.record_count,
                    amount=line.amount,
                    trace={
                        **line.trace,
                        "plan_version_id": version.pk,
                        "plan_version_number": version.number,
                        "usage": {
                            **usage_link,
                            "products": sorted(line.trace.get("products", {})),
                        },
                    },
                )
                for i, line in enumerate(result.lines, start=1)
            ]
        )
    Statement.objects.bulk_create(statements)
    lines: list[StatementLine] = []
    for statement, group in zip(statements, line_rows, strict=True):
        for line in group:
            line.statement = statement
            lines.append(line)
    StatementLine.objects.bulk_create(lines)
    return unsettled
