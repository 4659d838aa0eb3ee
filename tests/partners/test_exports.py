"""partners.exports: CSV and XLSX downloads that a spreadsheet opens without running formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.http import StreamingHttpResponse

from partners.exports import export_rows, safe_text

HOSTILE = [
    ("=1+1", "'=1+1"),
    ("+41 44 123 45 67", "'+41 44 123 45 67"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=cmd", "'\t=cmd"),
    ("\r=cmd", "'\r=cmd"),
    ("\n=cmd", "'\n=cmd"),
    ('   =HYPERLINK("http://evil")', '\'   =HYPERLINK("http://evil")'),
    ("\u00a0=1", "'\u00a0=1"),  # a no-break space is still a leading space
    ("plain text", "plain text"),
    ("a=b", "a=b"),
    ("", ""),
    ("   ", "   "),
]


@pytest.mark.parametrize(("value", "expected"), HOSTILE)
def test_safe_text_neutralises_formula_triggers(value: str, expected: str) -> None:
    assert safe_text(value) == expected


def rows() -> list[tuple[object, ...]]:
    return [
        (value, Decimal("-12.50"), -3, date(2026, 1, 31), datetime(2026, 1, 31, 9, 30, tzinfo=UTC))
        for value, _ in HOSTILE
    ] + [(None, Decimal("0.10"), 0, None, None)]


COLUMNS = ["Name", "Amount", "Count", "Day", "=At"]


def test_csv_is_streamed_with_safe_text_and_plain_numbers(settings) -> None:
    settings.TIME_ZONE = "UTC"
    response = export_rows(rows=rows(), columns=COLUMNS, file_format="csv", filename="t e/s t")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="t-e-s-t.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 with a byte order mark
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert parsed[0] == ["Name", "Amount", "Count", "Day", "'=At"]
    for (_, expected), line in zip(HOSTILE, parsed[1:], strict=False):
        assert line[0] == expected
        assert line[1:4] == ["-12.50", "-3", "2026-01-31"]  # numbers are not "escaped"
    assert parsed[-1] == ["", "0.10", "0", "", ""]


def test_xlsx_keeps_numbers_and_dates_typed_and_text_safe(settings) -> None:
    settings.TIME_ZONE = "UTC"
    response = export_rows(rows=rows(), columns=COLUMNS, file_format="xlsx", filename="t.xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="t.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = list(sheet.iter_rows(min_row=2))
    assert sheet["E1"].value == "'=At"
    for (_, expected), row in zip(HOSTILE, cells, strict=False):
        name, amount, count, day, at = row
        assert name.data_type != "f"  # never a formula
        # XML turns a carriage return into a line feed; the apostrophe stays in front.
        assert (name.value or "") in (expected, expected.replace("\r", "\n"))
        assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("-12.5")
        assert count.value == -3
        assert day.is_date and day.value == datetime(2026, 1, 31)
        assert at.is_date and at.value == datetime(2026, 1, 31, 9, 30)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="csv or xlsx"):
        export_rows(rows=[], columns=["A"], file_format="pdf", filename="x")
