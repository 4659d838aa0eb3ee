"""The settlement engine proper: pure Decimal arithmetic on month aggregates, no database.

Input: a validated plan (``settlements.plans.plan_content_parse``), the month's aggregates of one
partner per product (basis and quantity already converted to the plan currency *exactly*, in SQL),
and which of the plan's KPIs were met. Output: the statement's lines, each rounded once, half-up,
to the plan currency's minor units, and the totals. ``docs/settlement.md`` walks through examples
of every rule kind; ``tests/settlements/test_engine_examples.py`` checks them.

Order: rule lines (one per rule, on the month total of the products it takes); KPI adjustment
lines (percent of the sum of the rounded rule lines); minimum guarantee top-up and cap reduction
(against the sum of the rounded lines before them, so the share lands exactly on the guarantee or
the cap). The partner share is the sum of the rounded lines, the basis total is rounded the same way
and the CSP share is the basis total minus the partner share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from settlements.currencies import minor_units

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Aggregate:
    """One partner's month of one product, in the plan currency (exact, unrounded)."""

    product_code: str
    basis: Decimal
    quantity: Decimal
    record_count: int
    # Trace: per source currency, the original basis sum and the rates used.
    fx: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Line:
    kind: str
    description: str
    amount: Decimal
    product_code: str = ""
    basis_amount: Decimal = ZERO
    quantity: Decimal = ZERO
    record_count: int = 0
    trace: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    currency: str
    direction: str
    lines: list[Line]
    basis_total: Decimal
    partner_share: Decimal
    csp_share: Decimal
    unsettled: list[Aggregate]  # products without a rule, with their sums


@cache
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor units (ISO 4217: JPY 0, EUR 2, BHD 3)."""
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def tiered_amount(
    total: Decimal, tiers: list[dict[str, str | None]], mode: str
) -> tuple[Decimal, list[dict[str, str]]]:
    """Amount for ``total`` under ``tiers`` and the breakdown per band.

    ``marginal``: each band's rate on the part of the total inside the band. ``all_units``: the
    rate of the band the total reaches (bounds are inclusive: exactly ``up_to`` stays in the band)
    on the whole total. A total <= 0 (refunds exceeding sales) takes the first band's rate.
    """
    breakdown: list[dict[str, str]] = []
    if mode == "all_units" or total <= 0:
        for tier in tiers:
            bound = tier["up_to"]
            if bound is None or total <= Decimal(bound) or total <= 0:
                rate = Decimal(str(tier["rate"]))
                amount = total * rate
                breakdown.append(
                    {
                        "up_to": bound or "",
                        "rate": _fmt(rate),
                        "measure": _fmt(total),
                        "amount": _fmt(amount),
                    }
                )
                return amount, breakdown
        raise AssertionError("the last tier is unbounded")  # validated by plans.py
    amount = ZERO
    lower = ZERO
    for tier in tiers:
        bound = tier["up_to"]
        upper = total if bound is None else min(total, Decimal(bound))
        if upper <= lower:
            break
        rate = Decimal(str(tier["rate"]))
        part = (upper - lower) * rate
        breakdown.append(
            {
                "from": _fmt(lower),
                "up_to": bound or "",
                "rate": _fmt(rate),
                "measure": _fmt(upper - lower),
                "amount": _fmt(part),
            }
        )
        amount += part
        if bound is None:
            break
        lower = Decimal(bound)
    return amount, breakdown


def _rule_for(product: str, rules: list[dict[str, Any]]) -> int | None:
    star = None
    for i, rule in enumerate(rules):
        if rule["product"] == product:
            return i
        if rule["product"] == "*":
            star = i
    return star


def _rule_lines(
    rules: list[dict[str, Any]],
    aggregates: list[Aggregate],
    currency: str,
    plan_version: str,
    unsettled: list[Aggregate],
    *,
    kind: str,
) -> list[Line]:
    by_rule: dict[int, list[Aggregate]] = {}
    for agg in aggregates:
        index = _rule_for(agg.product_code, rules)
        if index is None:
            unsettled.append(agg)
        else:
            by_rule.setdefault(index, []).append(agg)
    lines: list[Line] = []
    for index in sorted(by_rule):
        rule = rules[index]
        group = by_rule[index]
        basis = sum((a.basis for a in group), ZERO)
        quantity = sum((a.quantity for a in group), ZERO)
        count = sum(a.record_count for a in group)
        trace: dict[str, Any] = {
            "rule_index": index,
            "rule": dict(rule),
            "plan_version": plan_version,
            "basis": _fmt(basis),
            "quantity": _fmt(quantity),
            "record_count": count,
            "products": {
                a.product_code: {
                    "basis": _fmt(a.basis),
                    "quantity": _fmt(a.quantity),
                    "record_count": a.record_count,
                    "fx": dict(a.fx),
                }
                for a in group
            },
        }
        if rule["type"] == "percentage":
            exact = basis * Decimal(rule["rate"])
            what = f"{_pct(Decimal(rule['rate']))} of {_fmt(round_money(basis, currency))}"
        elif rule["type"] == "per_unit":
            exact = quantity * Decimal(rule["amount"])
            what = f"{_fmt(quantity.normalize())} units x {rule['amount']}"
        else:
            measure = basis if rule["measure"] == "revenue" else quantity
            exact, breakdown = tiered_amount(measure, rule["tiers"], rule["mode"])
            trace["tiers"] = breakdown
            what = f"{rule['mode'].replace('_', '-')} tiers on {rule['measure']}"
        trace["exact_amount"] = _fmt(exact)
        label = rule["product"] if rule["product"] != "*" else "all other products"
        prefix = "Late usage, " if kind == "late_usage" else ""
        lines.append(
            Line(
                kind=kind,
                description=f"{prefix}{label}: {what}",
                amount=round_money(exact, currency),
                product_code=rule["product"],
                basis_amount=basis,
                quantity=quantity,
                record_count=count,
                trace=trace,
            )
        )
    return lines


def settle(
    *,
    plan: Mapping[str, Any],
    aggregates: Iterable[Aggregate],
    kpi_met: Mapping[str, bool | None] | None = None,
    plan_version: str = "",
    late: Iterable[Aggregate] = (),
) -> Result:
    """A partner's statement for one month under ``plan`` (see the module docstring)."""
    currency = str(plan["currency"])
    kpi_met = kpi_met or {}
    rules: list[dict[str, Any]] = list(plan["rules"])
    aggregates = sorted(aggregates, key=lambda a: a.product_code)
    late = sorted(late, key=lambda a: a.product_code)
    unsettled: list[Aggregate] = []
    lines = _rule_lines(rules, aggregates, currency, plan_version, unsettled, kind="rule")
    late_lines = _rule_lines(rules, late, currency, plan_version, unsettled, kind="late_usage")
    settled_basis = sum((a.basis for a in (*aggregates, *late)), ZERO) - sum(
        (a.basis for a in unsettled), ZERO
    )

    # KPI adjustments, guarantee and cap concern the month's own usage; late usage of a frozen
    # month is settled by the rules alone (see docs/settlement.md).
    rule_sum = sum((line.amount for line in lines), ZERO)
    for adj in plan.get("kpi_adjustments") or []:
        met = kpi_met.get(adj["kpi"])
        if met is None:
            percent, outcome = ZERO, "no attainment for the month"
        elif met:
            percent, outcome = Decimal(adj["bonus_percent_if_met"]), "met"
        else:
            percent, outcome = -Decimal(adj["penalty_percent_if_missed"]), "missed"
        if percent == 0:
            continue
        exact = rule_sum * percent / HUNDRED
        lines.append(
            Line(
                kind="kpi_adjustment",
                description=f"KPI {adj['kpi']} {outcome}: {_fmt(percent)}% of {_fmt(rule_sum)}",
                amount=round_money(exact, currency),
                trace={
                    "kpi": adj["kpi"],
                    "met": met,
                    "percent": _fmt(percent),
                    "on": _fmt(rule_sum),
                    "exact_amount": _fmt(exact),
                    "plan_version": plan_version,
                },
            )
        )

    subtotal = sum((line.amount for line in lines), ZERO)
    minimum = plan.get("minimum_guarantee")
    if minimum is not None and subtotal < Decimal(minimum):
        top_up = round_money(Decimal(minimum) - subtotal, currency)
        lines.append(
            Line(
                kind="minimum_guarantee",
                description=f"Minimum guarantee {minimum}: top-up",
                amount=top_up,
                trace={"minimum_guarantee": minimum, "subtotal": _fmt(subtotal)},
            )
        )
        subtotal += top_up
    cap = plan.get("cap")
    if cap is not None and subtotal > Decimal(cap):
        cut = round_money(Decimal(cap) - subtotal, currency)
        lines.append(
            Line(
                kind="cap",
                description=f"Cap {cap}: reduction",
                amount=cut,
                trace={"cap": cap, "subtotal": _fmt(subtotal)},
            )
        )
        subtotal += cut

    lines.extend(late_lines)
    basis_total = round_money(settled_basis, currency)
    partner_share = sum((line.amount for line in lines), ZERO)
    return Result(
        currency=currency,
        direction=str(plan["direction"]),
        lines=lines,
        basis_total=basis_total,
        partner_share=partner_share,
        csp_share=basis_total - partner_share,
        unsettled=unsettled,
    )


def _pct(rate: Decimal) -> str:
    return f"{_fmt((rate * HUNDRED).normalize())}%"
