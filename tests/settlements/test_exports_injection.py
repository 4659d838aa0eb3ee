"""Formula injection: hostile partner names, descriptions and product codes come out escaped in
every CSV and XLSX export, while amounts stay numbers (also negative ones)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from partnerhub.tenancy.context import tenant_context
from partners.exports import FORMULA_TRIGGERS
from settlements.exports.journal import JOURNAL_COLUMNS
from settlements.exports.tables import LINE_COLUMNS, STATEMENT_COLUMNS
from settlements.models import Statement
from settlements.services.exports import export_build_now
from tests.conftest import login
from tests.partners.factories import PartnerFactory
from tests.settlements.export_helpers import OCTOBER, make_statement

HOSTILE = [
    '=HYPERLINK("http://evil.test","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "   =1+1",
    "\u00a0\u2003@cmd",
]
SAFE = ["Plain Media Ltd", "Rate 30% - net", "O'Brien & Co"]

COLUMNS = {"statements": STATEMENT_COLUMNS, "lines": LINE_COLUMNS, "journal": JOURNAL_COLUMNS}
# Which columns carry the planted values in each export.
PLANTED = {
    "statements": ("partner_name",),
    "lines": ("partner_name", "product_code", "description"),
    "journal": ("partner_name",),
}
AMOUNTS = {
    "statements": ("basis_total", "partner_share", "csp_share"),
    "lines": ("basis_amount", "amount"),
    "journal": ("debit", "credit"),
}


def dangerous(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula?"""
    stripped = text.lstrip(" \u00a0\u2003")
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


@pytest.fixture
def hostile_month(personas):
    with tenant_context(personas.tenant_a):
        for i, value in enumerate(HOSTILE + SAFE):
            partner = PartnerFactory(legal_name=value, trading_name=value)
            make_statement(
                partner,
                description=value,
                product_code=value[:60],
                share="-5.00" if i % 2 else "300.00",
            )
    return personas


def test_hostile_values_are_safe_values_are_kept(hostile_month):
    assert all(dangerous(v) for v in HOSTILE) and not any(dangerous(v) for v in SAFE)


@pytest.mark.parametrize("kind", ["statements", "lines", "journal"])
def test_every_csv_text_cell_is_escaped(hostile_month, kind):
    with tenant_context(hostile_month.tenant_a):
        out = io.BytesIO()
        export_build_now(kind=kind, file_format="csv", month=OCTOBER, filters=None, out=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))
    assert len(rows) >= len(HOSTILE + SAFE)
    for row in rows:
        text = {k: v for k, v in row.items() if k not in AMOUNTS[kind]}
        assert not any(dangerous(cell) for cell in text.values()), row
        for column in PLANTED[kind]:
            value = row[column]
            original = value[1:] if value.startswith("'") else value
            assert original in [v[:60] for v in HOSTILE + SAFE] + HOSTILE + SAFE
            assert value.startswith("'") == dangerous(original)
        for column in AMOUNTS[kind]:
            Decimal(row[column])  # still a plain number, a negative one unescaped


@pytest.mark.parametrize("kind", ["statements", "lines", "journal"])
def test_every_xlsx_text_cell_is_escaped_and_amounts_are_numeric(hostile_month, kind):
    with tenant_context(hostile_month.tenant_a):
        out = io.BytesIO()
        export_build_now(kind=kind, file_format="xlsx", month=OCTOBER, filters=None, out=out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    header = [c.value for c in sheet[1]]
    assert header == list(COLUMNS[kind])
    negatives = 0
    for cells in sheet.iter_rows(min_row=2):
        row = dict(zip(header, cells, strict=True))
        for cell in cells:
            assert cell.data_type != "f", cell.value  # never a formula cell
            if isinstance(cell.value, str):
                assert not dangerous(cell.value), cell.value
        for column in PLANTED[kind]:
            assert isinstance(row[column].value, str)
        for column in AMOUNTS[kind]:
            assert row[column].data_type == "n", (column, row[column].value)
            negatives += row[column].value < 0
    if kind == "statements":
        assert negatives > 0  # negative shares stayed numbers, not escaped text


def test_portal_csv_of_a_hostile_statement_is_escaped(personas):
    with tenant_context(personas.tenant_a):
        personas.a_partner.legal_name = "=cmd|' /C calc'!A0"
        personas.a_partner.save()
        statement = make_statement(
            personas.a_partner,
            status=Statement.Status.APPROVED,
            description="@SUM(1)",
            product_code="+music",
        )
    response = login(personas.a_partner_user).get(f"/portal/statements/{statement.pk}/csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert (rows[0]["partner_name"], rows[0]["description"], rows[0]["product_code"]) == (
        "'=cmd|' /C calc'!A0",
        "'@SUM(1)",
        "'+music",
    )
