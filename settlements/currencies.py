"""ISO 4217 currency codes and their minor units, from the maintained ``iso4217`` package.

Only currencies with a defined minor unit count as usable: fund and precious-metal codes (XAU, XDR,
XXX, ...) have "N.A." minor units in ISO 4217, so no amount can be rounded in them and they are
refused like unknown codes. Codes are exact upper case ("eur" is not a currency code).
"""

from __future__ import annotations

from functools import lru_cache

from iso4217 import Currency


@lru_cache(maxsize=1)
def currency_minor_units() -> dict[str, int]:
    """Every usable ISO 4217 code mapped to its minor units (JPY 0, EUR 2, BHD 3)."""
    return {c.code: c.exponent for c in Currency if c.exponent is not None}


def is_iso_currency(code: object) -> bool:
    """True when ``code`` is an active ISO 4217 code with defined minor units."""
    return isinstance(code, str) and code in currency_minor_units()


def minor_units(code: str) -> int:
    """The number of decimals of ``code`` (ISO 4217 exponent); ``ValueError`` for unknown codes."""
    try:
        return currency_minor_units()[code]
    except (KeyError, TypeError):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code") from None
