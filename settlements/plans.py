"""Revenue-share plan content: a strict validator for the JSON shape of issue 5.

Money and rates are decimal *strings* (``"0.30"``), never JSON numbers: a float cannot say 0.1
exactly. ``plan_content_parse`` accepts raw JSON text (numbers are parsed as ``Decimal`` and then
refused with their path) or an already decoded mapping, and returns a normalised copy whose decimals
are canonical strings. Every error names its JSON path, e.g. ``rules[1].tiers[0].rate``.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from settlements.currencies import is_iso_currency, minor_units

TOP_KEYS = {
    "name",
    "currency",
    "direction",
    "basis",
    "fx",
    "rules",
    "kpi_adjustments",
    "minimum_guarantee",
    "cap",
}
REQUIRED_TOP = {"name", "currency", "direction", "basis", "fx", "rules"}
RULE_KEYS = {
    "percentage": {"product", "type", "rate"},
    "tiered": {"product", "type", "measure", "mode", "tiers"},
    "per_unit": {"product", "type", "amount"},
}
DIRECTIONS = ("payable", "receivable")
BASES = ("gross", "net")
FX_MODES = ("transaction_date", "period_end")
MEASURES = ("revenue", "quantity")
MODES = ("marginal", "all_units")
KPI_KEYS = {"kpi", "bonus_percent_if_met", "penalty_percent_if_missed"}
MAX_DIGITS = 20


class _Errors:
    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.items.setdefault(path, []).append(message)


def _decimal(
    value: Any,
    path: str,
    errors: _Errors,
    *,
    minimum: Decimal | None = None,
    places: int | None = None,
    nullable: bool = False,
) -> str | None:
    """A canonical decimal string, or None (error recorded) when ``value`` is not one."""
    if value is None:
        if not nullable:
            errors.add(path, "must be a decimal string")
        return None
    if not isinstance(value, str) or isinstance(value, bool):
        errors.add(path, 'must be a decimal string (JSON numbers are refused: use "1.50")')
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        errors.add(path, "must be a decimal string")
        return None
    if not number.is_finite() or value.strip() != value or "e" in value.lower():
        errors.add(path, 'must be a plain decimal string such as "0.25"')
        return None
    digits = number.as_tuple()
    exponent = digits.exponent if isinstance(digits.exponent, int) else 0
    if len(digits.digits) > MAX_DIGITS or exponent < -10:
        errors.add(path, "has too many digits (at most 20, 10 after the point)")
        return None
    if minimum is not None and number < minimum:
        errors.add(path, f"must be >= {minimum}")
        return None
    if places is not None and -exponent > places:
        errors.add(path, f"has more decimals than the plan currency allows ({places})")
        return None
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...], errors: _Errors) -> str | None:
    if value not in choices:
        errors.add(path, f"must be one of {', '.join(repr(c) for c in choices)}")
        return None
    return str(value)


def _unknown(data: dict[str, Any], allowed: set[str], prefix: str, errors: _Errors) -> None:
    for key in sorted(set(data) - allowed):
        errors.add(f"{prefix}{key}", "unknown key")


def _missing(data: dict[str, Any], required: set[str], prefix: str, errors: _Errors) -> None:
    for key in sorted(required - set(data)):
        errors.add(f"{prefix}{key}", "is required")


def _tiers(value: Any, path: str, errors: _Errors) -> list[dict[str, str | None]]:
    if not isinstance(value, list) or not value:
        errors.add(path, "must be a non-empty list of tiers")
        return []
    out: list[dict[str, str | None]] = []
    previous: Decimal | None = None
    for i, tier in enumerate(value):
        tpath = f"{path}[{i}]"
        if not isinstance(tier, dict):
            errors.add(tpath, "must be an object with up_to and rate")
            continue
        _unknown(tier, {"up_to", "rate"}, f"{tpath}.", errors)
        _missing(tier, {"up_to", "rate"}, f"{tpath}.", errors)
        rate = _decimal(tier.get("rate"), f"{tpath}.rate", errors, minimum=Decimal(0))
        last = i == len(value) - 1
        up_to = _decimal(tier.get("up_to"), f"{tpath}.up_to", errors, nullable=True)
        if "up_to" in tier:
            if tier["up_to"] is None and not last:
                errors.add(f"{tpath}.up_to", "only the last tier may be unbounded (null)")
            if last and tier["up_to"] is not None:
                errors.add(f"{tpath}.up_to", "the last tier must be unbounded (null)")
        if up_to is not None:
            bound = Decimal(up_to)
            if bound <= 0:
                errors.add(f"{tpath}.up_to", "must be > 0")
            elif previous is not None and bound <= previous:
                errors.add(f"{tpath}.up_to", f"must be greater than the previous bound {previous}")
            previous = bound
        out.append({"up_to": up_to, "rate": rate})
    return out


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice would silently take the later value: refuse it instead."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _storable(value: Any, path: str = "content") -> str | None:
    """The path of a string PostgreSQL cannot store (NUL, a lone surrogate), else None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        items: list[tuple[Any, str]] = []
        for key, item in value.items():
            items += [(key, path), (item, f"{path}.{key}")]
    elif isinstance(value, list):
        items = [(item, f"{path}[{i}]") for i, item in enumerate(value)]
    else:
        return None
    for item, item_path in items:
        found = _storable(item, item_path)
        if found:
            return found
    return None


def plan_content_parse(raw: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """Validate plan content and return it normalised; ``ValidationError`` keyed by JSON path."""
    if isinstance(raw, str | bytes):
        try:
            data = json.loads(
                raw, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=_no_duplicates
            )
        except ValueError as exc:
            raise ValidationError({"content": [f"is not valid JSON: {exc}"]}) from None
        except RecursionError:
            raise ValidationError({"content": ["is nested too deeply"]}) from None
    else:
        data = raw
    errors = _Errors()
    if not isinstance(data, dict):
        raise ValidationError({"content": ["must be a JSON object"]})
    try:
        bad_text = _storable(data)
    except RecursionError:
        raise ValidationError({"content": ["is nested too deeply"]}) from None
    if bad_text:
        raise ValidationError(
            {bad_text: ["contains a NUL character or invalid Unicode (binary data?)"]}
        )
    _unknown(data, TOP_KEYS, "", errors)
    _missing(data, REQUIRED_TOP, "", errors)
    name = data.get("name")
    if "name" in data and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        errors.add("name", "must be a non-empty string of at most 200 characters")
    currency = data.get("currency")
    places: int | None = None
    if "currency" in data:
        if is_iso_currency(currency):
            places = minor_units(str(currency))
        else:
            errors.add("currency", 'must be an ISO 4217 currency code such as "EUR"')
    out: dict[str, Any] = {"name": name, "currency": currency}
    for key, choices in (("direction", DIRECTIONS), ("basis", BASES), ("fx", FX_MODES)):
        if key in data:
            out[key] = _choice(data[key], key, choices, errors)
    rules_out: list[dict[str, Any]] = []
    rules = data.get("rules")
    if "rules" in data and (not isinstance(rules, list) or not rules):
        errors.add("rules", "must be a non-empty list of rules")
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        rpath = f"rules[{i}]"
        if not isinstance(rule, dict):
            errors.add(rpath, "must be an object")
            continue
        kind = rule.get("type")
        if kind not in RULE_KEYS:
            errors.add(f"{rpath}.type", "must be one of 'percentage', 'tiered', 'per_unit'")
            continue
        _unknown(rule, RULE_KEYS[kind], f"{rpath}.", errors)
        _missing(rule, RULE_KEYS[kind], f"{rpath}.", errors)
        product = rule.get("product")
        if not isinstance(product, str) or not product or len(product) > 60:
            errors.add(f"{rpath}.product", 'must be "*" or a product code')
        elif product in seen:
            errors.add(
                f"{rpath}.product",
                f"duplicate rule for product {product!r} (see rules[{seen[product]}])",
            )
        else:
            seen[product] = i
        item: dict[str, Any] = {"product": product, "type": kind}
        if kind == "percentage":
            item["rate"] = _decimal(rule.get("rate"), f"{rpath}.rate", errors, minimum=Decimal(0))
        elif kind == "per_unit":
            item["amount"] = _decimal(rule.get("amount"), f"{rpath}.amount", errors)
        else:
            item["measure"] = _choice(rule.get("measure"), f"{rpath}.measure", MEASURES, errors)
            item["mode"] = _choice(rule.get("mode"), f"{rpath}.mode", MODES, errors)
            item["tiers"] = _tiers(rule.get("tiers"), f"{rpath}.tiers", errors)
        rules_out.append(item)
    out["rules"] = rules_out
    adjustments = data.get("kpi_adjustments", [])
    adj_out: list[dict[str, Any]] = []
    if not isinstance(adjustments, list):
        errors.add("kpi_adjustments", "must be a list")
        adjustments = []
    kpis_seen: set[str] = set()
    for i, adj in enumerate(adjustments):
        apath = f"kpi_adjustments[{i}]"
        if not isinstance(adj, dict):
            errors.add(apath, "must be an object")
            continue
        _unknown(adj, KPI_KEYS, f"{apath}.", errors)
        _missing(adj, {"kpi"}, f"{apath}.", errors)
        kpi_key = adj.get("kpi")
        if not isinstance(kpi_key, str) or not kpi_key:
            errors.add(f"{apath}.kpi", "must be a KPI key")
        elif kpi_key in kpis_seen:
            errors.add(f"{apath}.kpi", f"duplicate adjustment for KPI {kpi_key!r}")
        else:
            kpis_seen.add(kpi_key)
        bonus = _decimal(
            adj.get("bonus_percent_if_met", "0"),
            f"{apath}.bonus_percent_if_met",
            errors,
            minimum=Decimal(0),
        )
        penalty = _decimal(
            adj.get("penalty_percent_if_missed", "0"),
            f"{apath}.penalty_percent_if_missed",
            errors,
            minimum=Decimal(0),
        )
        adj_out.append(
            {"kpi": kpi_key, "bonus_percent_if_met": bonus, "penalty_percent_if_missed": penalty}
        )
    out["kpi_adjustments"] = adj_out
    for key in ("minimum_guarantee", "cap"):
        out[key] = _decimal(
            data.get(key), key, errors, minimum=Decimal(0), places=places, nullable=True
        )
    guarantee, cap = out.get("minimum_guarantee"), out.get("cap")
    if guarantee and cap and Decimal(cap) < Decimal(guarantee):
        errors.add("cap", "must be >= minimum_guarantee")
    if errors.items:
        raise ValidationError(errors.items)
    return out
