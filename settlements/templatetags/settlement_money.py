"""``{{ amount|money:currency }}``: an amount at its currency's minor units (JPY 0, BHD 3)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from settlements.engine import round_money

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return ""
    try:
        return f"{round_money(Decimal(value), currency)} {currency}"
    except ValueError:
        return f"{value} {currency}"
