"""Property tests of the engine's money arithmetic (hypothesis)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from settlements.engine import Aggregate, settle
from settlements.plans import plan_content_parse

amounts = st.decimals(min_value=D("-100000"), max_value=D("10000000"), places=2)
positive = st.decimals(min_value=D("0"), max_value=D("10000000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("1"), places=4)
currencies = st.sampled_from(["EUR", "JPY", "BHD"])


@st.composite
def rising_tiers(draw):
    n = draw(st.integers(min_value=1, max_value=4))
    bounds = sorted(
        draw(st.sets(st.integers(min_value=1, max_value=1_000_000), min_size=n - 1, max_size=n - 1))
    )
    rate_list = sorted(draw(st.lists(rates, min_size=n, max_size=n)))
    tiers = [{"up_to": str(b), "rate": str(r)} for b, r in zip(bounds, rate_list, strict=False)]
    tiers.append({"up_to": None, "rate": str(rate_list[-1])})
    return tiers


def make_plan(currency, rules, **extra):
    return plan_content_parse(
        {
            "name": "P",
            "currency": currency,
            "direction": "payable",
            "basis": "gross",
            "fx": "transaction_date",
            "rules": rules,
            **extra,
        }
    )


@settings(max_examples=200, deadline=None)
@given(
    currency=currencies,
    rate=rates,
    tiers=rising_tiers(),
    mode=st.sampled_from(["marginal", "all_units"]),
    music=amounts,
    games=amounts,
    sms=st.decimals(min_value=D("0"), max_value=D("100000"), places=3),
    minimum=st.none() | positive,
    cap_extra=st.none() | positive,
    met=st.none() | st.booleans(),
)
def test_partner_share_plus_csp_share_is_basis_total(
    currency, rate, tiers, mode, music, games, sms, minimum, cap_extra, met
):
    from settlements.engine import round_money

    minimum = round_money(minimum, currency) if minimum is not None else None
    cap = None
    if cap_extra is not None:
        cap = round_money((minimum or D(0)) + cap_extra, currency)
    plan = make_plan(
        currency,
        [
            {"product": "*", "type": "percentage", "rate": str(rate)},
            {
                "product": "games",
                "type": "tiered",
                "measure": "revenue",
                "mode": mode,
                "tiers": tiers,
            },
            {"product": "sms", "type": "per_unit", "amount": "0.015"},
        ],
        kpi_adjustments=[
            {"kpi": "nps", "bonus_percent_if_met": "5", "penalty_percent_if_missed": "7.5"}
        ],
        minimum_guarantee=None if minimum is None else str(minimum),
        cap=None if cap is None else str(cap),
    )
    result = settle(
        plan=plan,
        aggregates=[
            Aggregate("music", music, D(0), 1),
            Aggregate("games", games, D(0), 1),
            Aggregate("sms", D("0"), sms, 1),
        ],
        kpi_met={"nps": met},
    )
    assert result.partner_share + result.csp_share == result.basis_total
    assert result.partner_share == sum(line.amount for line in result.lines)
    for line in result.lines:
        assert line.amount == round_money(line.amount, currency)
    if minimum is not None:
        assert result.partner_share >= minimum
    if cap is not None:
        assert result.partner_share <= cap


@settings(max_examples=300, deadline=None)
@given(
    tiers=rising_tiers(),
    mode=st.sampled_from(["marginal", "all_units"]),
    measure=st.sampled_from(["revenue", "quantity"]),
    volume=positive,
    more=positive,
    currency=currencies,
)
def test_more_volume_never_pays_less_with_rising_tier_rates(
    tiers, mode, measure, volume, more, currency
):
    plan = make_plan(
        currency,
        [{"product": "*", "type": "tiered", "measure": measure, "mode": mode, "tiers": tiers}],
    )

    def share(v):
        basis, qty = (v, D(0)) if measure == "revenue" else (D(0), v)
        return settle(plan=plan, aggregates=[Aggregate("x", basis, qty, 1)]).partner_share

    assert share(volume + more) >= share(volume)
