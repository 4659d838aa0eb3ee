"""The portfolio sorted by score or a KPI: the page cut in SQL equals the whole-portfolio sort."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpis.models import KpiDefinition
from kpis.periods import Period, tenant_today
from kpis.selectors.scorecards import (
    Scorecard,
    kpi_portfolio,
    kpi_portfolio_page,
    portfolio_partners,
    portfolio_sort_keys,
    scorecard_definitions,
)
from partnerhub.tenancy.context import tenant_context
from partners.models import PartnerStatus, PartnerTier, PartnerType
from tests.kpis.helpers import put, target
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def full_compute_order(
    period: Period, sort: str, descending: bool, partner_type=None, tier=None
) -> list[tuple[int, Decimal | None]]:
    """The order (and sort keys) the portfolio had when every scorecard was computed to sort
    it: Python's stable sort from the name order, partners without a value after the others."""
    _, cards = kpi_portfolio(period=period, partner_type=partner_type, tier=tier)

    def value(card: Scorecard) -> Decimal | None:
        if sort == "score":
            return card.score
        line = card.line(sort)
        return line.attainment if line else None

    known = sorted((c for c in cards if value(c) is not None), key=value)  # type: ignore[arg-type,return-value]
    ordered = known + [c for c in cards if value(c) is None]
    if descending:
        ordered = known[::-1] + ordered[len(known) :]
    return [(c.partner.pk, value(c)) for c in ordered]


def paged_order(period: Period, sort: str, descending: bool, **filters) -> tuple[list[int], int]:
    first = kpi_portfolio_page(
        period=period, sort=sort, descending=descending, per_page=3, page=1, **filters
    )[1]
    pks = []
    for number in first.paginator.page_range:
        _, page = kpi_portfolio_page(
            period=period, sort=sort, descending=descending, per_page=3, page=number, **filters
        )
        pks += [card.partner.pk for card in page.object_list]
    return pks, first.paginator.count


def portfolio_world(personas) -> None:
    """Ties, partners without values or targets, every target scope and period kind, a ratio
    with a zero denominator, a band, weights, rounding on the half."""
    period = Period.containing(tenant_today()).previous()
    start, before = period.start, period.previous().start
    gold = PartnerTier.objects.get(name="Gold")
    infra = PartnerType.objects.get(key="infrastructure_provider")
    band = KpiDefinition.objects.get(key="availability")
    band.direction, band.band_low, band.band_high = "within_band", Decimal("99.5"), Decimal("99.9")
    band.save()
    make = PartnerFactory
    zulu = make(legal_name="Zulu Media", trading_name="")
    alpha = make(legal_name="Alpha Net", trading_name="", tier=gold)
    mike = make(legal_name="Mike Mobile", trading_name="")
    bravo = make(legal_name="Bravo Cloud", trading_name="", partner_type=infra)
    echo = make(legal_name="Echo Towers", trading_name="", partner_type=infra, tier=gold)
    make(legal_name="Delta Nothing", trading_name="")
    kilo = make(legal_name="Kilo Zero", trading_name="")
    oscar = make(legal_name="Oscar Half", trading_name="")
    tie_a = make(legal_name="Tango Tie", trading_name="")
    tie_b = make(legal_name="Sierra Tie", trading_name="")
    fox = make(legal_name="Foxtrot High", trading_name="")
    golf = make(legal_name="Golf Round", trading_name="")
    gone = make(legal_name="Lima Exited", trading_name="", status=PartnerStatus.EXITED)

    put(zulu, "revenue", start, ["100", "50"])
    put(zulu, "active_subscribers", start, ["1000", "2000"])  # last 2000
    put(zulu, "complaints", start, ["2", "4"])  # 3 per 1,000
    put(zulu, "csat", start, ["4", "4", "5"])  # 4.333333
    put(alpha, "revenue", start, ["100"])
    put(alpha, "active_subscribers", start, ["3000"])
    put(alpha, "complaints", start, ["0"])  # 0 per 1,000: lower is better, 999 %
    put(mike, "revenue", start, ["-20"])  # below zero: 0 %
    put(mike, "complaints", start, ["3"])
    put(mike, "active_subscribers", start, ["0"])  # no ratio (zero denominator)
    put(bravo, "revenue", start, ["300"])
    put(bravo, "churn", start, ["1.5", "2.5"])
    put(bravo, "csat", start, ["3.8"])
    put(echo, "availability", start, ["99.8", "99.9"])  # inside the band: 100 %
    put(fox, "availability", start, ["100"])  # above the band: 99.9 %
    put(golf, "csat", start, ["1.000499", "1.000500"])  # 1.0004995 is 1.000500: 100.1 %
    put(echo, "churn", start, ["3"])
    put(echo, "revenue", start, ["150"])  # Gold's 200 before its type's 250
    put(kilo, "revenue", start, ["1"])
    put(oscar, "revenue", start, ["49"])  # 49 / 400 = 12.25 %: 12.3 half up
    put(oscar, "availability", start, ["99"])  # below the band: 99.497... %
    put(tie_a, "revenue", start, ["100"])
    put(tie_b, "revenue", start, ["100"])
    put(gone, "revenue", start, ["1000"])
    put(zulu, "activations", start, ["30", "12"])  # only partners' own activations targets
    put(alpha, "activations", start, ["50"])
    put(zulu, "revenue", before, ["999"])  # the previous period does not count

    target("revenue", "100", before)  # the default
    target("revenue", "600", before, weight="2", tier=gold, period_kind="quarter")  # 200 a month
    target("revenue", "150", before, weight="3", partner=zulu)
    target("revenue", "1", before, partner=alpha, effective_to=start)  # ended: Gold's applies
    target("revenue", "0", before, partner=kilo)  # zero target: 999 %
    target("revenue", "400", before, partner=oscar)
    target("revenue", "900", start, partner=oscar, period_kind="quarter")  # newer, other kind
    target("csat", "1", before, partner=golf)
    target("activations", "40", before, weight="2", partner=zulu)
    target("complaints_per_1000", "5", before, weight="0.5")
    target("churn", "2", before)
    target("csat", "4", before, weight="2", partner_type=infra)
    target("revenue", "250", before, partner_type=infra)


def keys_of_active() -> list[str]:
    return [d.key for d in scorecard_definitions()]


def sql_keys(period: Period, sort: str, descending: bool, partner_type=None, tier=None):
    definitions = scorecard_definitions()
    ids = portfolio_partners(partner_type=partner_type, tier=tier).values_list("pk", flat=True)
    return portfolio_sort_keys(
        partner_ids=list(ids),
        definitions=definitions if sort == "score" else [d for d in definitions if d.key == sort],
        period=period,
        by_score=sort == "score",
        descending=descending,
    )


@pytest.fixture
def world(personas):
    with tenant_context(personas.tenant_a):
        portfolio_world(personas)
    with tenant_context(personas.tenant_b):
        put(
            personas.b_partner, "revenue", Period.containing(tenant_today()).previous().start, ["5"]
        )
    return personas


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_sorted_pages_equal_the_whole_portfolio_sorted(world, kind):
    month = Period.containing(tenant_today()).previous()
    period = month if kind == "month" else Period.containing(month.start, "quarter")
    with tenant_context(world.tenant_a):
        gold = PartnerTier.objects.get(name="Gold").pk
        infra = PartnerType.objects.get(key="infrastructure_provider").pk
        keys = ["score", *KpiDefinition.objects.values_list("key", flat=True), "no_such_kpi"]
        for filters in ({}, {"tier": gold}, {"partner_type": infra}):
            for sort in keys:
                for descending in (False, True):
                    expected = full_compute_order(period, sort, descending, **filters)
                    got, count = paged_order(period, sort, descending, **filters)
                    assert got == [pk for pk, _ in expected], (sort, descending, filters)
                    assert count == len(expected)
                    if sort in ("score", *keys_of_active()):
                        # The keys computed in SQL are the scorecards' numbers, to the digit.
                        assert sql_keys(period, sort, descending, **filters) == expected
        # The world has what the comparison needs: ties, missing keys, both sides of the cap.
        _, cards = kpi_portfolio(period=period)
        scores = [c.score for c in cards]
        revenue = [c.line("revenue").attainment for c in cards]
        assert None in scores and len({s for s in scores if s is not None}) < len(
            [s for s in scores if s is not None]
        )
        if kind == "month":
            assert {Decimal("999.0"), Decimal("0.0"), Decimal("12.3"), None} <= set(revenue)


def test_sorted_page_shows_the_full_scorecards_of_its_partners(world):
    period = Period.containing(tenant_today()).previous()
    with tenant_context(world.tenant_a):
        _, page = kpi_portfolio_page(period=period, sort="score", descending=True, per_page=4)
        _, every = kpi_portfolio(period=period)
    by_pk = {card.partner.pk: card for card in every}
    for card in page.object_list:
        twin = by_pk[card.partner.pk]
        assert card.score == twin.score and card.status == twin.status
        assert [(x.kpi.key, x.actual, x.target, x.attainment, x.trend) for x in card.lines] == [
            (x.kpi.key, x.actual, x.target, x.attainment, x.trend) for x in twin.lines
        ]
        assert card.partner.partner_type.name  # the page's partners come with their type


def _more(tenant, n: int) -> None:
    period = Period.containing(tenant_today()).previous()
    with tenant_context(tenant):
        gold = PartnerTier.objects.get(name="Gold")
        for i in range(n):
            partner = PartnerFactory(tier=gold if i % 2 else None)
            put(partner, "revenue", period.start, [str(i), "2"])
            put(partner, "active_subscribers", period.start, ["10"])
            put(partner, "complaints", period.start, [str(i % 3)])
            target("revenue", str(10 + i), period.previous().start, partner=partner)


@pytest.mark.parametrize("sort", ["score", "revenue", "complaints_per_1000", "name"])
def test_portfolio_page_query_count_does_not_grow_with_partners(
    world, sort, django_assert_num_queries
):
    period = Period.containing(tenant_today()).previous()
    # By name: the definitions, the COUNT, the page's partners, their scorecards. Sorted: the
    # definitions, the partners' ids, the page's ids in order, its partners, their scorecards.
    expected = 4 if sort == "name" else 5
    for grow in (0, 12):
        _more(world.tenant_a, grow)
        with tenant_context(world.tenant_a), django_assert_num_queries(expected):
            _, page = kpi_portfolio_page(period=period, sort=sort, descending=True, page=2)
            assert page.object_list
