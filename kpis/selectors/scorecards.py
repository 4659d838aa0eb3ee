"""Scorecards: each KPI's actual for a period, its target as judged then, attainment, RAG.

Actuals aggregate the daily values in SQL (sum, mean or last; a ratio divides its operands'
aggregates and multiplies by the scale). One query serves one partner or a whole portfolio,
for the period and the previous one (the trend).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet

from kpis.models import Direction, KpiDefinition
from kpis.periods import Period
from kpis.selectors.definitions import TARGET_LATERAL_SQL
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner, PartnerStatus

# An attainment counts at most this much in the overall score, so one KPI far above target
# cannot hide the others.
SCORE_CAP = Decimal(150)
ATTAINMENT_CAP = Decimal(999)
HUNDRED = Decimal(100)
# Rows of the portfolio heat-map per page: a tenant with thousands of active partners would
# otherwise get a page of partners x KPIs cells that takes many seconds to build and render.
PORTFOLIO_PAGE_SIZE = 25


class Rag:
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"  # no actual or no target


@dataclass
class ScorecardLine:
    kpi: KpiDefinition
    actual: Decimal | None
    previous: Decimal | None
    target: Decimal | None
    weight: Decimal
    target_scope: str | None
    days: int
    attainment: Decimal | None = None
    status: str = Rag.NONE
    trend: str | None = None  # "better", "worse", "flat"
    change_pct: Decimal | None = None


@dataclass
class Scorecard:
    partner: Partner
    period: Period
    lines: list[ScorecardLine] = field(default_factory=list)
    score: Decimal | None = None
    status: str = Rag.NONE

    def line(self, key: str) -> ScorecardLine | None:
        return next((x for x in self.lines if x.kpi.key == key), None)


def _round(value: Decimal | None, places: str = "0.000001") -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def attainment(
    kpi: KpiDefinition, actual: Decimal | None, target: Decimal | None
) -> Decimal | None:
    """Attainment in % (100 = on target), capped at 999."""
    if actual is None:
        return None
    if kpi.direction == Direction.WITHIN_BAND:
        low, high = kpi.band_low, kpi.band_high
        if low is None or high is None:
            return None
        if low <= actual <= high:
            value = HUNDRED
        elif actual < low:
            value = actual / low * HUNDRED if low else Decimal(0)
        else:
            value = high / actual * HUNDRED if actual else Decimal(0)
    elif target is None:
        return None
    elif kpi.direction == Direction.LOWER_BETTER:
        if actual <= 0:
            value = ATTAINMENT_CAP if target >= 0 else Decimal(0)
        else:
            value = target / actual * HUNDRED
    else:
        if target == 0:
            value = ATTAINMENT_CAP if actual >= 0 else Decimal(0)
        else:
            value = actual / target * HUNDRED
    return _round(max(Decimal(0), min(value, ATTAINMENT_CAP)), "0.1")


def rag(kpi: KpiDefinition, value: Decimal | None) -> str:
    if value is None:
        return Rag.NONE
    if value < kpi.red_below:
        return Rag.RED
    if value < kpi.amber_below:
        return Rag.AMBER
    return Rag.GREEN


def _trend(
    kpi: KpiDefinition, actual: Decimal | None, previous: Decimal | None
) -> tuple[str | None, Decimal | None]:
    if actual is None or previous is None:
        return None, None
    change = None if previous == 0 else _round((actual - previous) / abs(previous) * HUNDRED, "0.1")
    if actual == previous:
        return "flat", change
    if kpi.direction == Direction.WITHIN_BAND:
        before, now = attainment(kpi, previous, None), attainment(kpi, actual, None)
        if before is None or now is None or before == now:
            return "flat", change
        return ("better" if now > before else "worse"), change
    up = actual > previous
    better = up if kpi.direction == Direction.HIGHER_BETTER else not up
    return ("better" if better else "worse"), change


_SCORECARD_SQL = """
WITH parts AS (
    SELECT id, tenant_id, tier_id, partner_type_id FROM partners_partner
     WHERE tenant_id = %(tenant)s AND id = ANY(%(partners)s::bigint[])
), agg AS (
    SELECT m.partner_id, m.kpi_id, (m.date >= %(start)s) AS cur, count(*) AS n,
           sum(m.value) AS s, avg(m.value) AS a,
           (array_agg(m.value ORDER BY m.date DESC))[1] AS l
      FROM kpis_kpimeasurement m
     WHERE m.tenant_id = %(tenant)s AND m.partner_id = ANY(%(partners)s::bigint[])
       AND m.date >= %(prev_start)s AND m.date < %(end)s
     GROUP BY 1, 2, 3
), base AS (
    SELECT agg.partner_id, agg.kpi_id, agg.cur, agg.n,
           CASE d.aggregation WHEN 'sum' THEN agg.s WHEN 'mean' THEN agg.a ELSE agg.l END AS v
      FROM agg JOIN kpis_kpidefinition d ON d.id = agg.kpi_id AND d.tenant_id = %(tenant)s
)
SELECT p.id, d.id,
       CASE WHEN d.aggregation = 'ratio' THEN nc.v / NULLIF(dc.v, 0) * d.scale ELSE bc.v END,
       CASE WHEN d.aggregation = 'ratio' THEN np.v / NULLIF(dp.v, 0) * d.scale ELSE bp.v END,
       coalesce(bc.n, least(nc.n, dc.n), 0),
       tg.target_value, tg.target_weight, tg.target_scope
  FROM parts p
  JOIN kpis_kpidefinition d ON d.tenant_id = p.tenant_id AND d.id = ANY(%(kpis)s::bigint[])
  LEFT JOIN base bc ON bc.partner_id = p.id AND bc.kpi_id = d.id AND bc.cur
  LEFT JOIN base bp ON bp.partner_id = p.id AND bp.kpi_id = d.id AND NOT bp.cur
  LEFT JOIN base nc ON nc.partner_id = p.id AND nc.kpi_id = d.numerator_id AND nc.cur
  LEFT JOIN base dc ON dc.partner_id = p.id AND dc.kpi_id = d.denominator_id AND dc.cur
  LEFT JOIN base np ON np.partner_id = p.id AND np.kpi_id = d.numerator_id AND NOT np.cur
  LEFT JOIN base dp ON dp.partner_id = p.id AND dp.kpi_id = d.denominator_id AND NOT dp.cur
  {target_lateral}
"""


def scorecard_definitions() -> list[KpiDefinition]:
    return list(
        KpiDefinition.objects.filter(is_active=True)
        .select_related("numerator", "denominator")
        .order_by("name")
    )


def kpi_scorecards(
    *, partners: Sequence[Partner], period: Period, definitions: list[KpiDefinition] | None = None
) -> list[Scorecard]:
    """Scorecards of ``partners`` for ``period`` (two queries whatever the number of rows)."""
    if definitions is None:
        definitions = scorecard_definitions()
    by_id = {d.pk: d for d in definitions}
    cards = {p.pk: Scorecard(partner=p, period=period) for p in partners}
    if not cards or not by_id:
        return list(cards.values())
    params: dict[str, Any] = {
        "tenant": require_current_tenant().pk,
        "partners": list(cards),
        "kpis": list(by_id),
        "start": period.start,
        "prev_start": period.previous().start,
        "end": period.end,
        "on": period.start,
        "kind": period.kind,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SCORECARD_SQL.format(target_lateral=TARGET_LATERAL_SQL), params)
        found = {(r[0], r[1]): r[2:] for r in cursor.fetchall()}
    for card in cards.values():
        weighted = Decimal(0)
        weights = Decimal(0)
        for kpi in definitions:
            actual, previous, days, target, weight, scope = found.get(
                (card.partner.pk, kpi.pk), (None, None, 0, None, None, None)
            )
            line = ScorecardLine(
                kpi=kpi,
                actual=_round(actual),
                previous=_round(previous),
                target=_round(target),
                weight=weight if weight is not None else Decimal(1),
                target_scope=scope,
                days=days,
            )
            line.attainment = attainment(kpi, line.actual, line.target)
            line.status = rag(kpi, line.attainment)
            line.trend, line.change_pct = _trend(kpi, line.actual, line.previous)
            card.lines.append(line)
            if line.attainment is not None and (
                line.target is not None or kpi.direction == Direction.WITHIN_BAND
            ):
                weighted += line.weight * min(line.attainment, SCORE_CAP)
                weights += line.weight
        if weights:
            score = (weighted / weights).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            card.score = score
            card.status = Rag.GREEN if score >= HUNDRED else Rag.AMBER if score >= 90 else Rag.RED
    return list(cards.values())


def kpi_scorecard(*, partner: Partner, period: Period) -> Scorecard:
    """One partner's scorecard for ``period``, judged against the targets of the time."""
    return kpi_scorecards(partners=[partner], period=period)[0]


def portfolio_partners(
    *, partner_type: int | None = None, tier: int | None = None
) -> QuerySet[Partner]:
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related(
        "partner_type", "tier"
    )
    if partner_type:
        partners = partners.filter(partner_type_id=partner_type)
    if tier:
        partners = partners.filter(tier_id=tier)
    return partners.order_by("legal_name")


def kpi_portfolio(
    *, period: Period, partner_type: int | None = None, tier: int | None = None
) -> tuple[list[KpiDefinition], list[Scorecard]]:
    """All active partners x active KPIs for ``period``, by name (the export). Three queries."""
    definitions = scorecard_definitions()
    cards = kpi_scorecards(
        partners=list(
            portfolio_partners(partner_type=partner_type, tier=tier).order_by("legal_name", "pk")
        ),
        period=period,
        definitions=definitions,
    )
    return definitions, cards


# The portfolio sorted by overall score or by one KPI's attainment, cut to one page in SQL: the
# sort key of every partner is computed set-based, as kpi_scorecards and attainment() compute it
# (the current period's aggregate; a ratio of its operands' aggregates times the scale; actual and
# target rounded to 6 places; the target that applies as in TARGET_LATERAL_SQL, resolved for
# partners' own targets and once per (tier, type) instead of one lateral lookup per partner and
# KPI; attainment capped at 0..999 and rounded half up to 0.1; the score the weights' mean of the
# attainments capped at 150, rounded half up to 0.1), and only the page's partners get a full
# scorecard. Divisions carry 40 decimals: they round to 0.1 as Python's 28 significant digits do
# whenever the divisor is below 10^18 (stored values are below 10^14). The order is the one the
# whole-portfolio sort gave: partners with a key by key, ties by name (both reversed when
# descending), then those without a key by name.
_PORTFOLIO_ORDER_SQL = """
WITH parts AS NOT MATERIALIZED (
    SELECT id, coalesce(tier_id, 0) AS tier, partner_type_id AS ptype, legal_name
      FROM partners_partner
     WHERE tenant_id = %(tenant)s AND id = ANY(%(partners)s::bigint[])
), defs AS (
    SELECT id, aggregation, direction, band_low, band_high, scale, numerator_id, denominator_id
      FROM kpis_kpidefinition WHERE tenant_id = %(tenant)s AND id = ANY(%(kpis)s::bigint[])
), targets AS (
    SELECT t.id, t.kpi_id, t.partner_id, t.tier_id, t.partner_type_id, t.weight,
           t.effective_from, t.period_kind,
           round(CASE WHEN t.period_kind = %(kind)s OR d.aggregation <> 'sum' THEN t.value
                      WHEN %(kind)s = 'quarter' THEN t.value * 3
                      ELSE t.value / 3 END, 6) AS value
      FROM kpis_kpitarget t JOIN defs d ON d.id = t.kpi_id
     WHERE t.tenant_id = %(tenant)s AND t.effective_from <= %(on)s
       AND (t.effective_to IS NULL OR t.effective_to > %(on)s)
), partner_target AS (
    SELECT DISTINCT ON (partner_id, kpi_id) partner_id, kpi_id, value, weight
      FROM targets WHERE partner_id IS NOT NULL
     ORDER BY partner_id, kpi_id, (period_kind <> %(kind)s), effective_from DESC, id DESC
), class_target AS (
    SELECT DISTINCT ON (c.tier, c.ptype, t.kpi_id) c.tier, c.ptype, t.kpi_id, t.value, t.weight
      FROM (SELECT DISTINCT tier, ptype FROM parts) c
      JOIN targets t ON t.partner_id IS NULL
       AND (t.tier_id = c.tier OR t.partner_type_id = c.ptype
            OR (t.tier_id IS NULL AND t.partner_type_id IS NULL))
     ORDER BY c.tier, c.ptype, t.kpi_id, (t.tier_id IS NULL), (t.partner_type_id IS NULL),
              (t.period_kind <> %(kind)s), t.effective_from DESC, t.id DESC
), wanted AS (
    -- The measured KPIs a line reads (its own, or its ratio's operands): every partner's when a
    -- band or a tier, type or default target gives them all a line, else only the partners'
    -- with a target of their own.
    SELECT d.id AS kpi_id, unnest(ARRAY[d.id, d.numerator_id, d.denominator_id]) AS measured,
           d.direction = 'within_band'
           OR d.id IN (SELECT kpi_id FROM targets WHERE partner_id IS NULL) AS everyone
      FROM defs d
), base AS (
    -- One aggregate per row's KPI; a day is unique per partner and KPI, so the greatest
    -- [day, value] pair holds the last value.
    SELECT m.partner_id, m.kpi_id,
           coalesce(sum(m.value) FILTER (WHERE d.aggregation = 'sum'),
                    avg(m.value) FILTER (WHERE d.aggregation = 'mean'),
                    (max(ARRAY[m.date - %(start)s, m.value])
                     FILTER (WHERE d.aggregation NOT IN ('sum', 'mean')))[2]) AS v
      FROM kpis_kpimeasurement m
      JOIN kpis_kpidefinition d ON d.id = m.kpi_id AND d.tenant_id = %(tenant)s
     WHERE m.tenant_id = %(tenant)s AND m.date >= %(start)s AND m.date < %(end)s
       AND m.partner_id = ANY(%(partners)s::bigint[])
       AND (m.kpi_id IN (SELECT measured FROM wanted WHERE everyone)
            OR (m.partner_id, m.kpi_id) IN (
                SELECT t.partner_id, w.measured FROM targets t JOIN wanted w USING (kpi_id)
                 WHERE t.partner_id IS NOT NULL))
     GROUP BY m.partner_id, m.kpi_id
), actual AS (
    SELECT partner_id AS pid, kpi_id, round(v, 6) AS actual
      FROM base WHERE kpi_id IN (SELECT id FROM defs WHERE aggregation <> 'ratio')
    UNION ALL
    SELECT b.partner_id, d.id, round(max(b.v) FILTER (WHERE b.kpi_id = d.numerator_id)
           / NULLIF(max(b.v) FILTER (WHERE b.kpi_id = d.denominator_id), 0) * d.scale, 6)
      FROM base b
      JOIN defs d ON d.aggregation = 'ratio' AND b.kpi_id IN (d.numerator_id, d.denominator_id)
     GROUP BY b.partner_id, d.id, d.scale
), line AS (
    -- Actuals and targets meet by grouping, not joining: the planner cannot know these sets'
    -- sizes and would join them in nested loops.
    SELECT s.pid, s.kpi_id, max(s.actual) AS actual,
           coalesce(max(s.target) FILTER (WHERE s.scope = 1),
                    max(s.target) FILTER (WHERE s.scope = 2)) AS target,
           coalesce(max(s.weight) FILTER (WHERE s.scope = 1),
                    max(s.weight) FILTER (WHERE s.scope = 2), 1) AS weight
      FROM (SELECT pid, kpi_id, actual, NULL::numeric AS target, NULL::numeric AS weight,
                   0 AS scope
              FROM actual
            UNION ALL
            SELECT partner_id, kpi_id, NULL, value, weight, 1 FROM partner_target
            UNION ALL
            SELECT p.id, ct.kpi_id, NULL, ct.value, ct.weight, 2
              FROM parts p JOIN class_target ct ON ct.tier = p.tier AND ct.ptype = p.ptype) s
     GROUP BY s.pid, s.kpi_id
), raw AS (
    SELECT l.pid, l.weight, CASE
        WHEN d.direction = 'within_band' THEN CASE
            WHEN d.band_low IS NULL OR d.band_high IS NULL THEN NULL
            WHEN l.actual BETWEEN d.band_low AND d.band_high THEN 100
            WHEN l.actual < d.band_low THEN CASE WHEN d.band_low = 0 THEN 0
                 ELSE l.actual::numeric(1000, 40) / d.band_low * 100 END
            ELSE CASE WHEN l.actual = 0 THEN 0
                 ELSE d.band_high::numeric(1000, 40) / l.actual * 100 END END
        WHEN l.target IS NULL THEN NULL
        WHEN d.direction = 'lower_better' THEN CASE
            WHEN l.actual <= 0 THEN CASE WHEN l.target >= 0 THEN 999 ELSE 0 END
            ELSE l.target::numeric(1000, 40) / l.actual * 100 END
        ELSE CASE
            WHEN l.target = 0 THEN CASE WHEN l.actual >= 0 THEN 999 ELSE 0 END
            ELSE l.actual::numeric(1000, 40) / l.target * 100 END
        END AS value
      FROM line l JOIN defs d ON d.id = l.kpi_id
     WHERE l.actual IS NOT NULL
), keyed AS (
    SELECT pid, CASE WHEN %(by_score)s THEN
               CASE WHEN sum(weight) <> 0 THEN round(
                   sum(weight * least(attainment, 150))::numeric(1000, 40) / sum(weight), 1) END
           ELSE max(attainment) END AS sort_key
      FROM (SELECT pid, weight, round(greatest(0, least(999, value)), 1) AS attainment
              FROM raw WHERE value IS NOT NULL) attained
     GROUP BY pid
)
SELECT p.id, k.sort_key FROM parts p LEFT JOIN keyed k ON k.pid = p.id
 ORDER BY (k.sort_key IS NULL), k.sort_key {direction},
          (CASE WHEN k.sort_key IS NOT NULL THEN p.legal_name END) {direction},
          (CASE WHEN k.sort_key IS NOT NULL THEN p.id END) {direction}, p.legal_name, p.id
 LIMIT %(limit)s OFFSET %(offset)s
"""


def portfolio_sort_keys(
    *,
    partner_ids: Sequence[int],
    definitions: Sequence[KpiDefinition],
    period: Period,
    by_score: bool,
    descending: bool,
    offset: int = 0,
    limit: int | None = None,
) -> list[tuple[int, Decimal | None]]:
    """``limit`` partners from ``offset`` of ``partner_ids`` (all by default) with their sort key,
    in its order: the overall score (``by_score``) or the attainment of the one KPI in
    ``definitions``. One query."""
    params: dict[str, Any] = {
        "tenant": require_current_tenant().pk,
        "partners": list(partner_ids),
        "kpis": [d.pk for d in definitions],
        "start": period.start,
        "end": period.end,
        "on": period.start,
        "kind": period.kind,
        "by_score": by_score,
        "offset": offset,
        "limit": limit,
    }
    sql = _PORTFOLIO_ORDER_SQL.format(direction="DESC" if descending else "ASC")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, key) for pk, key in cursor.fetchall()]


def kpi_portfolio_page(
    *,
    period: Period,
    page: str | int | None = None,
    partner_type: int | None = None,
    tier: int | None = None,
    sort: str = "",
    descending: bool = False,
    per_page: int | None = None,
) -> tuple[list[KpiDefinition], Page[Scorecard]]:
    """One page of the portfolio; ``sort`` is "name" (the default), "score" or a KPI key (by
    attainment; an unknown key sorts by name). Only the page's scorecards are computed: by name
    the partners are paged in SQL (four queries), by score or a KPI the sort key of every partner
    is computed in SQL and the page cut there (five queries)."""
    per_page = per_page or PORTFOLIO_PAGE_SIZE
    definitions = scorecard_definitions()
    partners = portfolio_partners(partner_type=partner_type, tier=tier)
    keyed = [d for d in definitions if d.key == sort] if sort not in ("", "name", "score") else []
    current: Page[Any]
    if sort == "score" or keyed:
        ids = list(partners.order_by("legal_name", "pk").values_list("pk", flat=True))
        current = Paginator(ids, per_page).get_page(page)
        keys = portfolio_sort_keys(
            partner_ids=ids,
            definitions=definitions if sort == "score" else keyed,
            period=period,
            by_score=sort == "score",
            descending=descending,
            offset=(current.number - 1) * per_page,
            limit=per_page,
        )
        rows = partners.in_bulk([pk for pk, _ in keys])
        page_partners = [rows[pk] for pk, _ in keys]
    else:
        # An unknown key (not an active KPI's) gives every partner no value: by name, ascending.
        descending = descending and sort in ("", "name")
        order = ("-legal_name", "-pk") if descending else ("legal_name", "pk")
        current = Paginator(partners.order_by(*order), per_page).get_page(page)
        page_partners = list(current.object_list)
    cards = kpi_scorecards(partners=page_partners, period=period, definitions=definitions)
    # The partners' page (number, count, links) with the page's scorecards as its rows.
    return definitions, Page(cards, current.number, cast(Any, current.paginator))
