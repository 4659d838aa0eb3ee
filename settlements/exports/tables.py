"""Rows of the statements and statement-lines exports, under stable columns.

The columns are a contract with finance spreadsheets and ERP imports: they are documented in
docs/settlement-exports.md (a test keeps the two in step), new columns are only appended.
Amounts are Decimals (numeric cells), currencies ISO 4217 codes in their own column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from settlements.models import Statement, StatementLine

STATEMENT_COLUMNS: tuple[str, ...] = (
    "statement_id",
    "month",
    "partner_id",
    "partner_name",
    "partner_tax_id",
    "partner_country",
    "plan",
    "plan_version",
    "direction",
    "status",
    "currency",
    "basis_total",
    "partner_share",
    "csp_share",
    "line_count",
    "content_hash",
)

LINE_COLUMNS: tuple[str, ...] = (
    "statement_id",
    "month",
    "partner_id",
    "partner_name",
    "direction",
    "status",
    "currency",
    "position",
    "kind",
    "product_code",
    "description",
    "rule_type",
    "rate",
    "unit_amount",
    "basis_amount",
    "quantity",
    "record_count",
    "amount",
)


def _month(statement: Statement) -> str:
    return f"{statement.month:%Y-%m}"


def statement_rows(statements: Iterable[Statement]) -> Iterator[tuple[Any, ...]]:
    """One row per statement (partner and plan loaded; ``line_count`` annotated or counted)."""
    for s in statements:
        line_count = getattr(s, "line_count", None)
        yield (
            s.pk,
            _month(s),
            s.partner_id,
            s.partner.legal_name,
            s.partner.tax_id,
            s.partner.country,
            s.plan_version.plan.name,
            s.plan_version.number,
            s.direction,
            s.status,
            s.currency,
            s.basis_total,
            s.partner_share,
            s.csp_share,
            line_count if line_count is not None else s.lines.count(),
            s.content_hash,
        )


def line_rate(line: StatementLine) -> tuple[str, Decimal | None, Decimal | None]:
    """The rule type of a rule line, its percentage rate (0.30 = 30 %) and its per-unit amount,
    from the line's trace; blanks for lines that no rule priced (caps, adjustments, ...)."""
    rule = (line.trace or {}).get("rule") or {}
    rule_type = str(rule.get("type") or "")
    rate = Decimal(str(rule["rate"])) if rule_type == "percentage" and "rate" in rule else None
    unit = Decimal(str(rule["amount"])) if rule_type == "per_unit" and "amount" in rule else None
    return rule_type, rate, unit


def line_rows(statements: Iterable[Statement]) -> Iterator[tuple[Any, ...]]:
    """One row per line of each statement (lines prefetched in position order)."""
    for s in statements:
        for line in s.lines.all():
            rule_type, rate, unit = line_rate(line)
            yield (
                s.pk,
                _month(s),
                s.partner_id,
                s.partner.legal_name,
                s.direction,
                s.status,
                s.currency,
                line.position,
                line.kind,
                line.product_code,
                line.description,
                rule_type,
                rate,
                unit,
                line.basis_amount,
                line.quantity,
                line.record_count,
                line.amount,
            )
