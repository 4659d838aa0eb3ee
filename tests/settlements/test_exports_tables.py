"""Statements, lines and journal exports: columns and values of a hand-made statement."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from settlements.exports.journal import JOURNAL_COLUMNS
from settlements.exports.tables import LINE_COLUMNS, STATEMENT_COLUMNS
from settlements.models import Statement
from settlements.services.exports import export_build_now, journal_settings_update
from tests.settlements.export_helpers import OCTOBER, make_statement


def build(kind: str, file_format: str, filters: dict | None = None) -> bytes:
    out = io.BytesIO()
    export_build_now(kind=kind, file_format=file_format, month=OCTOBER, filters=filters, out=out)
    return out.getvalue()


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def test_statements_csv_and_xlsx_have_the_documented_columns_and_numbers(personas, as_tenant_a):
    statement = make_statement(personas.a_partner, adjustment="-10.00", share="290.00")
    rows = read_csv(build("statements", "csv"))
    assert list(rows[0]) == list(STATEMENT_COLUMNS)
    assert rows == [
        {
            "statement_id": str(statement.pk),
            "month": "2026-10",
            "partner_id": str(personas.a_partner.pk),
            "partner_name": "Acme Content Ltd",
            "partner_tax_id": personas.a_partner.tax_id,
            "partner_country": personas.a_partner.country,
            "plan": statement.plan_version.plan.name,
            "plan_version": "1",
            "direction": "payable",
            "status": "approved",
            "currency": "EUR",
            "basis_total": "1000.0000",
            "partner_share": "290.0000",
            "csp_share": "710.0000",
            "line_count": "2",
            "content_hash": "ab" * 32,
        }
    ]
    sheet = read_xlsx(build("statements", "xlsx"))
    assert sheet[0] == STATEMENT_COLUMNS
    values = dict(zip(STATEMENT_COLUMNS, sheet[1], strict=True))
    assert values["partner_share"] == 290 and isinstance(values["partner_share"], int | float)
    assert values["currency"] == "EUR" and values["statement_id"] == statement.pk


def test_lines_export_has_basis_rate_and_amount_per_line(personas, as_tenant_a):
    statement = make_statement(personas.a_partner, adjustment="-10.00", share="290.00")
    rows = read_csv(build("lines", "csv"))
    assert list(rows[0]) == list(LINE_COLUMNS)
    assert [(r["position"], r["kind"], r["amount"]) for r in rows] == [
        ("1", "rule", "300.0000"),
        ("2", "adjustment", "-10.0000"),
    ]
    assert rows[0]["rule_type"] == "percentage" and rows[0]["rate"] == "0.30"
    assert rows[0]["basis_amount"] == "1000.000000" and rows[0]["statement_id"] == str(statement.pk)
    assert rows[1]["rate"] == "" and rows[1]["description"] == "Correction of September"
    sheet = read_xlsx(build("lines", "xlsx"))
    line = dict(zip(LINE_COLUMNS, sheet[1], strict=True))
    assert line["rate"] == pytest.approx(0.3) and line["amount"] == 300
    assert dict(zip(LINE_COLUMNS, sheet[2], strict=True))["amount"] == -10


def test_filters_select_statements_and_bad_filters_are_named(personas, as_tenant_a):
    make_statement(personas.a_partner, status=Statement.Status.DRAFT)
    make_statement(personas.a_other_partner, currency="USD", direction="receivable")
    assert len(read_csv(build("statements", "csv", {"status": ["draft"]}))) == 1
    assert len(read_csv(build("statements", "csv", {"currency": "USD"}))) == 1
    assert len(read_csv(build("statements", "csv", {"direction": "payable"}))) == 1
    only = read_csv(build("statements", "csv", {"partner": personas.a_other_partner.pk}))
    assert [r["partner_name"] for r in only] == ["Other Media SA"]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="currency"):
        build("statements", "csv", {"currency": "euro"})
    with pytest.raises(ValidationError, match="status"):
        build("statements", "csv", {"status": ["nope"]})
    with pytest.raises(ValidationError, match="No partner with id"):
        build("statements", "csv", {"partner": personas.b_partner.pk})
    with pytest.raises(ValidationError, match="Unknown filter colour"):
        build("statements", "csv", {"colour": "red"})
    with pytest.raises(ValidationError, match="zip"):
        build("pdf_zip", "csv")


def _balances(rows: list[dict[str, str]]) -> dict[str, tuple[Decimal, Decimal]]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in rows:
        sums[row["currency"]][0] += Decimal(row["debit"])
        sums[row["currency"]][1] += Decimal(row["credit"])
    return {currency: (d, c) for currency, (d, c) in sums.items()}


def test_journal_balances_per_currency_on_the_tenants_accounts(personas, as_tenant_a):
    journal_settings_update(
        partner_payable_account="2010",
        partner_receivable_account="1410",
        revenue_share_expense_account="6010",
        revenue_share_income_account="7010",
        journal_code="RSJ",
    )
    payable = make_statement(personas.a_partner, share="300.00")
    receivable = make_statement(
        personas.a_other_partner, currency="USD", direction="receivable", share="85.50"
    )
    rows = read_csv(build("journal", "csv"))
    assert list(rows[0]) == list(JOURNAL_COLUMNS)
    booked = [(r["statement_id"], r["account"], r["debit"], r["credit"]) for r in rows]
    assert sorted(booked) == sorted(
        [
            (str(payable.pk), "6010", "300.0000", "0"),
            (str(payable.pk), "2010", "0", "300.0000"),
            (str(receivable.pk), "1410", "85.5000", "0"),
            (str(receivable.pk), "7010", "0", "85.5000"),
        ]
    )
    assert {r["journal"] for r in rows} == {"RSJ"} and rows[0]["entry_date"] == "2026-10-31"
    for debit, credit in _balances(rows).values():
        assert debit == credit
    assert set(_balances(rows)) == {"EUR", "USD"}


def test_journal_books_a_negative_share_on_swapped_sides_and_still_balances(personas, as_tenant_a):
    make_statement(personas.a_partner, share="-40.00", adjustment="-340.00")
    make_statement(personas.a_other_partner, share="-5.00", direction="receivable")
    rows = read_csv(build("journal", "csv"))
    assert all(Decimal(r["debit"]) >= 0 and Decimal(r["credit"]) >= 0 for r in rows)
    payable = [r for r in rows if r["direction"] == "payable"]
    assert [(r["account"], r["debit"]) for r in payable] == [("2100", "40.0000"), ("6100", "0")]
    sheet = read_xlsx(build("journal", "xlsx"))
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in sheet[1:]:
        values = dict(zip(JOURNAL_COLUMNS, row, strict=True))
        totals[values["currency"]][0] += Decimal(str(values["debit"]))
        totals[values["currency"]][1] += Decimal(str(values["credit"]))
    assert all(d == c for d, c in totals.values()) and len(totals) == 1


def test_zero_statements_make_no_journal_rows_and_other_tenants_are_absent(personas):
    from partnerhub.tenancy.context import tenant_context

    with tenant_context(personas.tenant_b):
        make_statement(personas.b_partner)
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner, share="0")
        assert read_csv(build("journal", "csv")) == []
        assert [r["partner_name"] for r in read_csv(build("statements", "csv"))] == [
            "Acme Content Ltd"
        ]


def test_docs_list_every_column_of_every_export_in_order():
    from pathlib import Path

    text = Path(__file__).resolve().parents[2].joinpath("docs/settlement-exports.md").read_text()
    for title, columns in (
        ("### `statements`", STATEMENT_COLUMNS),
        ("### `lines`", LINE_COLUMNS),
        ("### `journal`", JOURNAL_COLUMNS),
    ):
        section = text.split(title, 1)[1].split("\n### ", 1)[0]
        documented = [
            line.split("|")[1].strip().strip("`")
            for line in section.splitlines()
            if line.startswith("| `")
        ]
        assert documented == list(columns), title
