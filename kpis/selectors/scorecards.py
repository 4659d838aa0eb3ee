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
    *,
    period: Period,
    partner_type: int | None = None,
    tier: int | None = None,
    sort: str = "",
    descending: bool = False,
) -> tuple[list[KpiDefinition], list[Scorecard]]:
    """All active partners x active KPIs for ``period``; ``sort`` is "name", "score" or a KPI key
    (by attainment). Three queries."""
    definitions = scorecard_definitions()
    cards = kpi_scorecards(
        partners=list(portfolio_partners(partner_type=partner_type, tier=tier)),
        period=period,
        definitions=definitions,
    )
    if sort and sort != "name":

        def value(card: Scorecard) -> Decimal | None:
            if sort == "score":
                return card.score
            line = card.line(sort)
            return line.attainment if line else None

        known = sorted((c for c in cards if value(c) is not None), key=value)  # type: ignore[arg-type]
        cards = known + [c for c in cards if value(c) is None]
        if descending:
            cards = known[::-1] + cards[len(known) :]
    elif descending:
        cards.reverse()
    return definitions, cards


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
    """One page of the portfolio. By name (the default) the partners are paged in SQL and only
    the page's scorecards are computed; by score or a KPI every scorecard is needed to sort."""
    per_page = per_page or PORTFOLIO_PAGE_SIZE
    if sort and sort != "name":
        definitions, cards = kpi_portfolio(
            period=period, partner_type=partner_type, tier=tier, sort=sort, descending=descending
        )
        return definitions, Paginator(cards, per_page).get_page(page)
    order = ("-legal_name", "-pk") if descending else ("legal_name", "pk")
    partners = portfolio_partners(partner_type=partner_type, tier=tier).order_by(*order)
    current = Paginator(partners, per_page).get_page(page)
    definitions = scorecard_definitions()
    cards = kpi_scorecards(
        partners=list(current.object_list), period=period, definitions=definitions
    )
    # The partners' page (number, count, links) with the page's scorecards as its rows.
    return definitions, Page(cards, current.number, cast(Any, current.paginator))
