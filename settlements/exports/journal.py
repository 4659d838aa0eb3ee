"""The journal export: double-entry rows an ERP imports, on the tenant's GL accounts.

Each statement with a non-zero partner share is one entry of two rows:

* payable (the CSP owes the partner): debit revenue-share expense, credit partner payable;
* receivable (the partner owes the CSP): debit partner receivable, credit revenue-share income.

A negative share (refunds, corrections) swaps the sides, so debit and credit are never negative.
Every entry balances, hence so does every currency of the file.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from settlements.models import JournalSettings, Statement

ZERO = Decimal("0")

JOURNAL_COLUMNS: tuple[str, ...] = (
    "entry_id",
    "entry_date",
    "journal",
    "account",
    "debit",
    "credit",
    "currency",
    "partner_id",
    "partner_name",
    "partner_tax_id",
    "statement_id",
    "month",
    "direction",
    "status",
    "description",
)


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def journal_rows(
    statements: Iterable[Statement], accounts: JournalSettings
) -> Iterator[tuple[Any, ...]]:
    """Two rows (debit, credit) per statement with a non-zero partner share."""
    for s in statements:
        amount = s.partner_share
        if not amount:
            continue
        if s.direction == "receivable":
            debit_account = accounts.partner_receivable_account
            credit_account = accounts.revenue_share_income_account
            what = "owed by"
        else:
            debit_account = accounts.revenue_share_expense_account
            credit_account = accounts.partner_payable_account
            what = "owed to"
        if amount < ZERO:
            debit_account, credit_account, amount = credit_account, debit_account, -amount
        description = f"Revenue share {s.month:%Y-%m} {what} {s.partner.legal_name}"
        common = (
            s.currency,
            s.partner_id,
            s.partner.legal_name,
            s.partner.tax_id,
            s.pk,
            f"{s.month:%Y-%m}",
            s.direction,
            s.status,
            description,
        )
        entry = (f"{accounts.journal_code}-{s.pk}", _month_end(s.month), accounts.journal_code)
        yield (*entry, debit_account, amount, ZERO, *common)
        yield (*entry, credit_account, ZERO, amount, *common)
