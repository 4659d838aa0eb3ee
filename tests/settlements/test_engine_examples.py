"""The worked examples of docs/settlement.md, computed by hand, checked against the engine."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from settlements.engine import Aggregate, round_money, settle, tiered_amount
from settlements.plans import plan_content_parse


def plan(rules, **extra):
    content = {
        "name": "Example",
        "currency": extra.pop("currency", "EUR"),
        "direction": extra.pop("direction", "payable"),
        "basis": extra.pop("basis", "gross"),
        "fx": "transaction_date",
        "rules": rules,
        **extra,
    }
    return plan_content_parse(content)


def agg(product, basis, quantity="0", count=1):
    return Aggregate(product_code=product, basis=D(basis), quantity=D(quantity), record_count=count)


TIERS = [{"up_to": "10000", "rate": "0.20"}, {"up_to": None, "rate": "0.25"}]


def test_example_percentage():
    result = settle(
        plan=plan([{"product": "*", "type": "percentage", "rate": "0.30"}]),
        aggregates=[agg("music", "600.00"), agg("video", "400.00")],
    )
    assert [line.amount for line in result.lines] == [D("300.00")]
    assert result.basis_total == D("1000.00")
    assert result.partner_share == D("300.00")
    assert result.csp_share == D("700.00")


def test_example_marginal_tiers():
    result = settle(
        plan=plan(
            [
                {
                    "product": "games",
                    "type": "tiered",
                    "measure": "revenue",
                    "mode": "marginal",
                    "tiers": TIERS,
                }
            ]
        ),
        aggregates=[agg("games", "15000.00")],
    )
    # 10000 x 0.20 + 5000 x 0.25 = 2000 + 1250
    assert result.partner_share == D("3250.00")
    assert [D(t["amount"]) for t in result.lines[0].trace["tiers"]] == [D("2000"), D("1250")]


@pytest.mark.parametrize(
    ("total", "share"),
    [("15000.00", "3750.00"), ("10000.00", "2000.00"), ("10000.01", "2500.00")],
)
def test_example_all_units_tiers(total, share):
    result = settle(
        plan=plan(
            [
                {
                    "product": "games",
                    "type": "tiered",
                    "measure": "revenue",
                    "mode": "all_units",
                    "tiers": TIERS,
                }
            ]
        ),
        aggregates=[agg("games", total)],
    )
    assert result.partner_share == D(share)


def test_example_per_unit():
    result = settle(
        plan=plan([{"product": "sms", "type": "per_unit", "amount": "1.50"}]),
        aggregates=[agg("sms", "99.00", quantity="1234")],
    )
    assert result.partner_share == D("1851.00")


def test_example_tiered_by_quantity():
    tiers = [{"up_to": "1000", "rate": "0.10"}, {"up_to": None, "rate": "0.05"}]
    result = settle(
        plan=plan(
            [
                {
                    "product": "sms",
                    "type": "tiered",
                    "measure": "quantity",
                    "mode": "marginal",
                    "tiers": tiers,
                }
            ]
        ),
        aggregates=[agg("sms", "50.00", quantity="1500")],
    )
    # 1000 x 0.10 + 500 x 0.05
    assert result.partner_share == D("125.00")


def test_example_kpi_bonus_and_penalty():
    content = plan(
        [{"product": "*", "type": "percentage", "rate": "0.10"}],
        kpi_adjustments=[
            {"kpi": "nps", "bonus_percent_if_met": "5", "penalty_percent_if_missed": "0"},
            {"kpi": "churn", "bonus_percent_if_met": "2", "penalty_percent_if_missed": "10"},
            {"kpi": "unmeasured", "bonus_percent_if_met": "5", "penalty_percent_if_missed": "5"},
        ],
    )
    result = settle(
        plan=content,
        aggregates=[agg("music", "10000.00")],
        kpi_met={"nps": True, "churn": False, "unmeasured": None},
    )
    # 1000.00 + 5% (50.00) - 10% (100.00); no attainment → no line
    assert [(line.kind, line.amount) for line in result.lines] == [
        ("rule", D("1000.00")),
        ("kpi_adjustment", D("50.00")),
        ("kpi_adjustment", D("-100.00")),
    ]
    assert result.partner_share == D("950.00")


def test_example_minimum_guarantee():
    result = settle(
        plan=plan(
            [{"product": "*", "type": "percentage", "rate": "0.30"}], minimum_guarantee="500.00"
        ),
        aggregates=[agg("music", "1000.00")],
    )
    assert [(line.kind, line.amount) for line in result.lines] == [
        ("rule", D("300.00")),
        ("minimum_guarantee", D("200.00")),
    ]
    assert result.partner_share == D("500.00")
    assert result.csp_share == D("500.00")


def test_example_cap():
    result = settle(
        plan=plan(
            [
                {
                    "product": "games",
                    "type": "tiered",
                    "measure": "revenue",
                    "mode": "all_units",
                    "tiers": TIERS,
                }
            ],
            cap="3000.00",
        ),
        aggregates=[agg("games", "15000.00")],
    )
    assert [(line.kind, line.amount) for line in result.lines] == [
        ("rule", D("3750.00")),
        ("cap", D("-750.00")),
    ]
    assert result.partner_share == D("3000.00")


def test_example_receivable_reseller():
    result = settle(
        plan=plan(
            [{"product": "*", "type": "percentage", "rate": "0.85"}],
            direction="receivable",
            basis="net",
        ),
        aggregates=[agg("handsets", "4000.00")],  # net: gross 5000.00 - tax 1000.00
    )
    assert result.direction == "receivable"
    assert result.partner_share == D("3400.00")  # the reseller owes the CSP 3400.00
    assert result.csp_share == D("600.00")


def test_example_multi_currency_fx():
    # 100.00 USD at 0.925 and 200.00 GBP at 1.17, both into EUR, exactly, then 30%.
    result = settle(
        plan=plan([{"product": "*", "type": "percentage", "rate": "0.30"}]),
        aggregates=[agg("music", D("100.00") * D("0.925") + D("200.00") * D("1.17"))],
    )
    assert result.basis_total == D("326.50")
    assert result.partner_share == D("97.95")


@pytest.mark.parametrize(
    ("currency", "basis", "rate", "share"),
    [
        ("JPY", "12345", "0.30", "3704"),  # 3703.5 → 3704
        ("EUR", "10.05", "0.30", "3.02"),  # 3.015 → 3.02 (half-up, not half-even)
        ("BHD", "10.005", "0.50", "5.003"),  # 5.0025 → 5.003
    ],
)
def test_example_rounding_per_currency(currency, basis, rate, share):
    result = settle(
        plan=plan([{"product": "*", "type": "percentage", "rate": rate}], currency=currency),
        aggregates=[agg("x", basis)],
    )
    assert result.partner_share == D(share)
    assert result.partner_share.as_tuple().exponent == -len(share.partition(".")[2])


def test_rounding_happens_once_per_line_not_per_record():
    # Three records of 0.01 at 50%: per record 0.005 → 0.01 each (0.03); once per line: 0.015 → 0.02
    result = settle(
        plan=plan([{"product": "*", "type": "percentage", "rate": "0.50"}]),
        aggregates=[agg("x", "0.03", count=3)],
    )
    assert result.partner_share == D("0.02")


def test_product_rule_beats_star_rule_and_unruled_products_are_unsettled():
    content = plan(
        [
            {"product": "music", "type": "percentage", "rate": "0.50"},
            {"product": "video", "type": "percentage", "rate": "0.10"},
        ]
    )
    result = settle(plan=content, aggregates=[agg("music", "100"), agg("tv", "40")])
    assert result.partner_share == D("50.00")
    assert [a.product_code for a in result.unsettled] == ["tv"]
    assert result.basis_total == D("100.00")
    result = settle(
        plan=plan(
            [
                {"product": "*", "type": "percentage", "rate": "0.20"},
                {"product": "music", "type": "percentage", "rate": "0.50"},
            ]
        ),
        aggregates=[agg("music", "100"), agg("tv", "40")],
    )
    assert result.partner_share == D("58.00")


def test_tiered_refund_month_takes_first_band():
    amount, _ = tiered_amount(D("-100"), TIERS, "marginal")
    assert amount == D("-20")


def test_round_money_half_up():
    assert round_money(D("2.5"), "JPY") == D("3")
    assert round_money(D("-2.5"), "JPY") == D("-3")


@pytest.mark.parametrize(
    ("content", "path", "message"),
    [
        (
            {"rules": [{"product": "*", "type": "percentage", "rate": 0.3}]},
            "rules[0].rate",
            "decimal string",
        ),
        (
            {
                "rules": [
                    {"product": "a", "type": "percentage", "rate": "0.3"},
                    {"product": "a", "type": "per_unit", "amount": "1"},
                ]
            },
            "rules[1].product",
            "duplicate",
        ),
        (
            {
                "rules": [
                    {
                        "product": "a",
                        "type": "tiered",
                        "measure": "revenue",
                        "mode": "marginal",
                        "tiers": [
                            {"up_to": "10", "rate": "0.1"},
                            {"up_to": "5", "rate": "0.2"},
                            {"up_to": None, "rate": "0.3"},
                        ],
                    }
                ]
            },
            "rules[0].tiers[1].up_to",
            "greater",
        ),
        (
            {
                "rules": [
                    {
                        "product": "a",
                        "type": "tiered",
                        "measure": "revenue",
                        "mode": "marginal",
                        "tiers": [{"up_to": "10", "rate": "x"}, {"up_to": None, "rate": "0.2"}],
                    }
                ]
            },
            "rules[0].tiers[0].rate",
            "decimal string",
        ),
        ({"colour": "red"}, "colour", "unknown key"),
        (
            {"rules": [{"product": "a", "type": "percentage", "rate": "0.3", "extra": 1}]},
            "rules[0].extra",
            "unknown key",
        ),
        ({"currency": "XXX"}, "currency", "ISO 4217"),
        ({"currency": "JPY", "minimum_guarantee": "500.5"}, "minimum_guarantee", "decimals"),
        ({"direction": "both"}, "direction", "one of"),
        (
            {
                "rules": [
                    {
                        "product": "a",
                        "type": "tiered",
                        "measure": "revenue",
                        "mode": "marginal",
                        "tiers": [{"up_to": "10", "rate": "0.1"}],
                    }
                ]
            },
            "rules[0].tiers[0].up_to",
            "unbounded",
        ),
        (
            {"kpi_adjustments": [{"kpi": "nps", "bonus_percent_if_met": "-1"}]},
            "kpi_adjustments[0].bonus_percent_if_met",
            ">= 0",
        ),
    ],
)
def test_plan_validation_names_the_json_path(content, path, message):
    base = {
        "name": "P",
        "currency": "EUR",
        "direction": "payable",
        "basis": "gross",
        "fx": "transaction_date",
        "rules": [{"product": "*", "type": "percentage", "rate": "0.1"}],
    }
    with pytest.raises(ValidationError) as exc:
        plan_content_parse({**base, **content})
    errors = exc.value.message_dict
    assert path in errors, errors
    assert any(message in m for m in errors[path]), errors


def test_plan_json_text_floats_are_refused():
    text = (
        '{"name": "P", "currency": "EUR", "direction": "payable", "basis": "gross",'
        ' "fx": "period_end", "rules": [{"product": "*", "type": "percentage", "rate": 0.1}]}'
    )
    with pytest.raises(ValidationError) as exc:
        plan_content_parse(text)
    assert "rules[0].rate" in exc.value.message_dict
    ok = plan_content_parse(text.replace("0.1}", '"0.1"}'))
    assert ok["rules"][0]["rate"] == "0.1"
    assert ok["kpi_adjustments"] == [] and ok["cap"] is None
