"""Build the draft statements of a chunk of partners for a month: SQL aggregates → engine → rows.

The usage of the month is converted to each partner's plan currency and summed per partner and
product in ONE set-based query (the month's usage days ⋈ the run's FX rates by day and currency,
GROUP BY); the engine applies the plan to those few aggregates. Nothing loops over usage rows in
Python.

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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Case, Q, When
from django.db.models.expressions import RawSQL

from kpis.periods import Period
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner
from settlements.engine import Aggregate, Line, Result, settle
from settlements.models import SettlementRun, Statement, StatementAdjustment
from settlements.selectors.plans import PartnerPlan, month_last_day, partner_plans_for_month
from settlements.services.statements_write import (
    statement_drafts_delete,
    statement_drafts_insert,
)

REASON_NO_RULE = "no_rule_for_product"
REASON_NO_FX = "missing_fx_rate"
REASON_UNKNOWN_PARTNER = "unknown_partner"
LATE_LOOKBACK_MONTHS = 12
AGGREGATE_WORK_MEM = "64MB"


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in the tenant's time zone, as aware datetimes."""
    zone = ZoneInfo(tz)
    nxt = month_last_day(month) + timedelta(days=1)
    return (
        datetime.combine(month, time.min, tzinfo=zone),
        datetime.combine(nxt, time.min, tzinfo=zone),
    )


def _any(ids: Sequence[int]) -> RawSQL:
    """For ``partner_id__in=``: the ids as ONE array parameter. A list gives Django and psycopg
    one placeholder per id to build and quote, about 20 ms per query for a chunk of 1,000."""
    return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


# The month's usage comes from its days (``UsageDay``: the records summed per partner, product,
# record currency, local day and import as they were written), never from the records: a few
# per cent as many rows, so a nightly run of the open month costs what its statements cost, not
# what its usage does. Then the plan (basis, FX day) and the day's rate are applied to those
# sums. Exact: a day's rate is one constant, so sum(basis) * rate = sum(basis * rate) in numeric
# arithmetic, and gross - tax is summed the same either way. One row per partner, product,
# currency and whether it had a rate; then, with a NULL partner, one row per record currency
# with the days it had (the run keeps the FX rates of those days).
_AGGREGATE_SQL_TEMPLATE = """
WITH pp AS (
    SELECT * FROM jsonb_to_recordset(%(pp)s::jsonb)
        AS x(partner_id bigint, ccy text, net boolean, period_end boolean)
), fx AS (
    SELECT * FROM jsonb_to_recordset(%(fx)s::jsonb) AS x(day date, src text, dst text, rate numeric)
), late AS (
    SELECT * FROM jsonb_to_recordset(%(late)s::jsonb)
        AS x(partner_id bigint, first_day date, month_end date, excluded bigint[])
), raw AS (
    SELECT d.partner_id, d.product_code, d.currency, false AS is_late, d.day,
           %(month_end)s::date AS month_end, d.usage_import_id AS imp, d.record_count AS n,
           d.quantity AS qty, d.gross_amount AS gross, d.tax_amount AS tax
    FROM settlements_usageday d
    -- bigint[]: psycopg sends small ids as int2[], and bigint = ANY(int2[]) is not hashed.
    WHERE d.tenant_id = %(tenant)s AND d.partner_id = ANY(%(partners)s::bigint[])
      AND d.day >= %(first_day)s AND d.day <= %(month_end)s
    {late_branch}
), usage AS (
    SELECT r.partner_id, r.product_code, r.currency, r.is_late, COALESCE(r.imp, 0) AS imp, r.n,
           r.qty, r.day,
           r.gross - CASE WHEN pp.net THEN r.tax ELSE 0 END AS basis, pp.ccy,
           CASE WHEN pp.period_end THEN r.month_end ELSE r.day END AS fx_day
    FROM raw r LEFT JOIN pp ON pp.partner_id = r.partner_id
)
SELECT r.partner_id, r.product_code, r.is_late, r.currency, fx.rate IS NOT NULL AS has_fx,
       sum(r.n)::bigint, sum(r.qty), sum(r.basis), sum(r.basis * fx.rate),
       min(fx.rate), max(fx.rate), array_agg(DISTINCT r.imp), NULL::date[]
FROM usage r
LEFT JOIN fx ON fx.day = r.fx_day AND fx.src = r.currency AND fx.dst = r.ccy
GROUP BY 1, 2, 3, 4, 5
UNION ALL
SELECT NULL, NULL, NULL, d.currency, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       array_agg(d.day)
FROM (SELECT DISTINCT r.currency, r.day FROM usage r) d
GROUP BY d.currency
"""


# Usage of frozen months settled late: a second branch of ``raw``, left out when no partner of
# the chunk has a frozen month before this one (the usual case).
_LATE_BRANCH = """    UNION ALL
    SELECT d.partner_id, d.product_code, d.currency, true, d.day, late.month_end,
           d.usage_import_id, d.record_count, d.quantity, d.gross_amount, d.tax_amount
    FROM late
    JOIN settlements_usageday d
      ON d.tenant_id = %(tenant)s AND d.partner_id = late.partner_id
     AND d.day >= late.first_day AND d.day <= late.month_end
    WHERE NOT (COALESCE(d.usage_import_id, 0) = ANY(late.excluded))
"""


def _aggregate_sql(*, with_late: bool) -> str:
    return _AGGREGATE_SQL_TEMPLATE.replace("{late_branch}", _LATE_BRANCH if with_late else "")


def _fx_rows(fx_rates: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    rows = []
    for day, pairs in fx_rates.items():
        for pair, rate in pairs.items():
            src, dst = pair.split("/")
            rows.append({"day": day, "src": src, "dst": dst, "rate": rate})
    return rows


def _late_windows(*, partner_ids: Sequence[int], month: date) -> list[dict[str, Any]]:
    """For each partner, the frozen months right before ``month`` whose late rows it settles.

    A frozen month M's late rows go to the first month after M that is not frozen; so ``month``
    takes them from the unbroken run of frozen months just before it. Excluded imports: those M
    covered itself and those already settled late by a frozen month between M and ``month``.
    """
    frozen = (
        Statement.objects.filter(
            partner_id__in=_any(partner_ids),
            month__lt=month,
            month__gte=add_months(month, -LATE_LOOKBACK_MONTHS),
        )
        .exclude(status=Statement.Status.DRAFT)
        .order_by()
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
            windows.append(
                {
                    "partner_id": pid,
                    "first_day": m.isoformat(),
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


def _pending_adjustments(
    *, partner_ids: Sequence[int], month: date
) -> dict[int, list[StatementAdjustment]]:
    """Manual adjustments the drafts of ``month`` settle, per partner: those not settled yet and
    those settled in the drafts of ``month`` being replaced (so a re-run settles them again, in
    the same place). One settled in another month's draft stays there; one correcting a statement
    lands only in a later month."""
    found = (
        StatementAdjustment.objects.filter(partner_id__in=_any(partner_ids))
        .filter(
            Q(settled_in__isnull=True)
            | Q(settled_in__month=month, settled_in__status=Statement.Status.DRAFT)
        )
        .exclude(corrects_statement__month__gte=month)
        .select_related("corrects_statement")
        .order_by("created_at", "pk")
    )
    out: dict[int, list[StatementAdjustment]] = defaultdict(list)
    for adjustment in found:
        out[adjustment.partner_id].append(adjustment)
    return out


def _adjustment_line(adjustment: StatementAdjustment) -> Line:
    corrected = adjustment.corrects_statement
    return Line(
        kind="adjustment",
        description=f"Adjustment: {adjustment.reason}",
        amount=adjustment.amount,
        trace={
            "adjustment_id": adjustment.pk,
            "reason": adjustment.reason,
            "corrects_statement_id": adjustment.corrects_statement_id,
            "corrects_statement_month": f"{corrected.month:%Y-%m}" if corrected else None,
            "corrects_line_id": adjustment.corrects_line_id,
            "dispute_id": adjustment.dispute_id,
        },
    )


def _add_adjustments(result: Result, adjustments: list[StatementAdjustment]) -> list[int]:
    """Append the adjustments in the statement's currency as lines; returns their ids (one in
    another currency waits, unsettled, for a statement in its currency)."""
    taken = [a for a in adjustments if a.currency == result.currency]
    for adjustment in taken:
        result.lines.append(_adjustment_line(adjustment))
        result.partner_share += adjustment.amount
    result.csp_share = result.basis_total - result.partner_share
    return [a.pk for a in taken]


@dataclass
class ChunkResult:
    """What a chunk leaves for its run: usage it could not settle, and the (day, currency) pairs
    of the usage it read (the run keeps the FX rates of those days, see ``fx_rates_resolve``)."""

    unsettled: list[dict[str, Any]] = field(default_factory=list)
    fx_days: list[list[str]] = field(default_factory=list)


@transaction.atomic
def statements_build(*, run: SettlementRun, partner_ids: Iterable[int]) -> ChunkResult:
    """Replace the month's draft statements of ``partner_ids``; returns their unsettled usage.

    Frozen (non-draft) statements are never touched: their partners are skipped here and new
    usage of their month is settled as late usage in the next open month.
    """
    tenant = require_current_tenant()
    tz = tenant.timezone
    month = run.month
    ids = sorted(set(partner_ids))
    frozen = set(
        Statement.objects.filter(partner_id__in=_any(ids), month=month)
        .exclude(status=Statement.Status.DRAFT)
        .order_by()
        .values_list("partner_id", flat=True)
    )
    ids = [pid for pid in ids if pid not in frozen]
    if not ids:
        return ChunkResult()
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
    late = _late_windows(partner_ids=ids, month=month)
    t0, t1 = month_bounds(month, tz)
    with connection.cursor() as cursor:
        # Room to sort and hash a month's days in memory (a chunk of 1,000 partners has tens of
        # thousands); the default 4 MB sent them to disk. For the rest of the transaction.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [AGGREGATE_WORK_MEM])
        cursor.execute(
            _aggregate_sql(with_late=bool(late)),
            {
                "pp": json.dumps(pp_rows),
                "fx": json.dumps(_fx_rows(run.fx_rates)),
                "late": json.dumps(late),
                "tenant": tenant.pk,
                "partners": ids,
                "first_day": month,
                "month_end": month_last_day(month),
            },
        )
        rows = cursor.fetchall()

    unsettled: list[dict[str, Any]] = []
    fx_days: set[tuple[date, str]] = set()
    # partner → (product, is_late) → converted sums and trace of the currencies they came from.
    sums: dict[int, dict[tuple[str, bool], dict[str, Any]]] = defaultdict(dict)
    imports: dict[tuple[int, bool], set[int]] = defaultdict(set)
    # Per (partner, product, is_late): the record currencies' own sums, so that usage without a
    # rule is reported in its record currency like every other unsettled usage.
    sources: dict[tuple[int, str, bool], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        pid, product, is_late, ccy, has_fx, count, qty, basis, converted, lo, hi, imps, days = row
        if pid is None:
            fx_days.update((day, ccy) for day in days)
            continue
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
                    "imports": sorted(imps),
                }
            )
            if plan.version is not None:
                imports[(pid, is_late)].update(imps)
            continue
        imports[(pid, is_late)].update(imps)
        sources[(pid, product, is_late)][ccy] = {
            "record_count": count,
            "basis": basis,
            "quantity": qty,
            "converted": converted,
            "imports": imps,
        }
        entry = sums[pid].setdefault(
            (product, is_late),
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
    adjustments = _pending_adjustments(partner_ids=ids, month=month)
    # The drafts are replaced: their adjustments are settled again below.
    StatementAdjustment.objects.filter(
        settled_in__month=month, settled_in__status=Statement.Status.DRAFT, partner_id__in=_any(ids)
    ).update(settled_in=None)
    statement_drafts_delete(tenant_id=tenant.pk, month=month, partner_ids=ids)
    settled: dict[int, list[int]] = {}
    month_from, month_to = t0.isoformat(), t1.isoformat()
    statements: list[dict[str, Any]] = []
    line_rows: list[list[dict[str, Any]]] = []
    for pid in ids:
        plan = plans[pid]
        if plan.version is None:
            continue
        mine = sums.get(pid, {})
        own = [
            Aggregate(k[0], v["basis"], v["quantity"], v["count"], v["fx"])
            for k, v in mine.items()
            if not k[1]
        ]
        late_aggs = [
            Aggregate(k[0], v["basis"], v["quantity"], v["count"], v["fx"])
            for k, v in mine.items()
            if k[1]
        ]
        version = plan.version
        result = settle(
            plan=version.content,
            aggregates=own,
            late=late_aggs,
            kpi_met=kpi.get(pid, {}),
            plan_version=f"{version.plan.name} v{version.number}",
        )
        if adjustments.get(pid):
            settled[pid] = _add_adjustments(result, adjustments[pid])
        for agg in result.unsettled:
            is_late = agg in late_aggs
            for ccy, src in sorted(sources[(pid, agg.product_code, is_late)].items()):
                unsettled.append(
                    {
                        "partner_id": pid,
                        "product_code": agg.product_code,
                        "currency": ccy,
                        "reason": REASON_NO_RULE,
                        "record_count": src["record_count"],
                        "basis": str(src["basis"]),
                        "quantity": str(src["quantity"]),
                        "late": is_late,
                        "imports": sorted(src["imports"]),
                        "plan_currency": result.currency,
                        "converted": str(src["converted"]),
                    }
                )
        statements.append(
            {
                "partner_id": pid,
                "plan_version_id": version.pk,
                "currency": result.currency,
                "direction": result.direction,
                "basis_total": result.basis_total,
                "partner_share": result.partner_share,
                "csp_share": result.csp_share,
                "content_hash": _hash(result),
                "covered_imports": sorted(imports.get((pid, False), set())),
                "late_imports": sorted(imports.get((pid, True), set())),
            }
        )
        usage_link = {"partner": pid, "from": month_from, "to": month_to}
        line_rows.append(
            [
                {
                    "position": i,
                    "kind": line.kind,
                    "product_code": line.product_code,
                    "description": line.description[:300],
                    "basis_amount": line.basis_amount,
                    "quantity": line.quantity,
                    "record_count": line.record_count,
                    "amount": line.amount,
                    "trace": line.trace
                    if line.kind == "adjustment"
                    else {
                        **line.trace,
                        "plan_version_id": version.pk,
                        "plan_version_number": version.number,
                        "usage": {
                            **usage_link,
                            "products": sorted(line.trace.get("products", {})),
                        },
                    },
                }
                for i, line in enumerate(result.lines, start=1)
            ]
        )
    statement_ids = statement_drafts_insert(
        tenant_id=tenant.pk, month=month, run_id=run.pk, statements=statements, lines=line_rows
    )
    if any(settled.values()):
        # Each adjustment now settled in exactly one statement: the partner's new draft.
        StatementAdjustment.objects.filter(
            pk__in=[pk for pks in settled.values() for pk in pks]
        ).update(
            settled_in=Case(
                *(When(partner_id=pid, then=statement_ids[pid]) for pid in settled),
                default=None,
            )
        )
    # The last day of each month too: the rate of period_end plans.
    fx_days |= {(month_last_day(day.replace(day=1)), ccy) for day, ccy in fx_days}
    return ChunkResult(unsettled, sorted([d.isoformat(), c] for d, c in fx_days))
