"""Statements in a real browser, on the demo data with a real Celery worker:

- finance approves the oldest demo month and downloads its statements as XLSX and its PDF
  statements as a ZIP, both built in the background; the test opens the files (openpyxl reads the
  workbook, pypdf the PDFs) and checks them against each other;
- a partner disputes a line of its approved statement in the portal, finance resolves the dispute
  with an amount, runs the next month, and the adjustment shows on the partner's next statement,
  linked both ways.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from settlements.demo_usage import demo_months
from tests.e2e.test_partners_disputes import signed_in

pytestmark = pytest.mark.e2e

PORTAL_PARTNER = "StreamWave Media"  # partner@demo.test's company in the demo
BACKGROUND = 90_000  # ms: a background job on a loaded 2-core machine


def _month() -> date:
    return demo_months()[0]


def _approve_drafts(page: Page, base_url: str, query: str) -> None:
    """Bulk-approve the drafts a statement filter finds (none left: nothing to do)."""
    page.goto(f"{base_url}/settlements/statements/?{query}")
    page.get_by_test_id("bulk-approve-start").click()
    confirm = page.get_by_test_id("bulk-approve-confirm")
    expect(confirm).to_be_visible()
    if confirm.get_by_test_id("bulk-approve-submit").count():
        confirm.get_by_test_id("bulk-approve-submit").click()
    page.goto(f"{base_url}/settlements/statements/?{query}&status=draft")
    expect(page.get_by_text("No statements match.")).to_be_visible()


def _export(page: Page, base_url: str, kind: str, file_format: str, tmp_path: Path) -> Path:
    """Start a background export of the month from the page, wait for it, download the file."""
    page.goto(f"{base_url}/settlements/exports/new/?month={_month():%Y-%m}")
    form = page.get_by_test_id("export-form")
    form.get_by_label("Kind").select_option(kind)
    form.get_by_label("Format").select_option(file_format)
    form.get_by_label("Month").fill(f"{_month():%Y-%m}")
    page.get_by_test_id("export-start").click()
    expect(page.get_by_test_id("export-progress")).to_be_visible()
    download_link = page.get_by_test_id("export-download")
    expect(download_link).to_be_visible(timeout=BACKGROUND)
    expect(page.get_by_test_id("export-progress")).to_contain_text("100 %")
    with page.expect_download() as download:
        download_link.click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    return target


def test_finance_approves_a_month_and_downloads_the_xlsx_and_the_pdf_zip(
    browser: Browser, e2e_server: str, tmp_path: Path
) -> None:
    context, page = signed_in(browser, e2e_server, "finance@demo.test")
    try:
        month = f"{_month():%Y-%m}"
        _approve_drafts(page, e2e_server, f"month={month}")
        page.goto(f"{e2e_server}/settlements/statements/?month={month}")
        table = page.get_by_test_id("statement-table")
        expect(table).to_contain_text("Approved")
        expect(table).not_to_contain_text("Draft")

        workbook_path = _export(page, e2e_server, "statements", "xlsx", tmp_path)
        assert workbook_path.suffix == ".xlsx"
        sheet = load_workbook(workbook_path, read_only=True).worksheets[0]
        header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert {"statement_id", "partner_name", "currency", "partner_share"} <= set(header)
        records = [dict(zip(header, row, strict=True)) for row in rows]
        assert records, "the month's statements are in the workbook"
        assert {r["status"] for r in records} <= {"approved", "paid"}
        assert {r["month"] for r in records} == {month} or all(
            str(r["month"]).startswith(month) for r in records
        )
        for record in records:
            # Amounts are numeric cells, not text; the currency has its own column.
            assert isinstance(record["partner_share"], int | float | Decimal), record
            assert re.fullmatch(r"[A-Z]{3}", record["currency"])
        by_id = {int(r["statement_id"]): r for r in records}

        archive_path = _export(page, e2e_server, "pdf_zip", "zip", tmp_path)
        with zipfile.ZipFile(archive_path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".pdf")]
            assert len(names) == len(records)
            checked = 0
            for name in names:
                statement_id = int(re.search(r"-(\d+)\.pdf$", name).group(1))  # type: ignore[union-attr]
                record = by_id[statement_id]
                text = "\n".join(
                    p.extract_text() for p in PdfReader(io.BytesIO(archive.read(name))).pages
                )
                assert record["partner_name"] in text, name
                share = Decimal(str(record["partner_share"]))
                assert f"{share:,.{_places(share, text)}f} {record['currency']}" in text, name
                checked += 1
            assert checked == len(records)
    finally:
        context.close()


def _places(amount: Decimal, text: str) -> int:
    """Minor units the PDF printed the amount with (JPY 0, EUR 2, ...)."""
    for places in (2, 0, 3):
        if f"{amount:,.{places}f}" in text:
            return places
    return 2


def test_partner_disputes_a_line_and_the_resolution_adjusts_the_next_statement(
    browser: Browser, e2e_server: str
) -> None:
    month, next_month = demo_months()[0], demo_months()[1]
    comment = f"Roaming usage counted twice {uuid.uuid4().hex[:6]}"
    finance_context, finance = signed_in(browser, e2e_server, "finance@demo.test")
    partner_context, partner = signed_in(browser, e2e_server, "partner@demo.test")
    try:
        # The partner's statement of the month is approved (by the other test or here).
        finance.goto(f"{e2e_server}/settlements/statements/?month={month:%Y-%m}")
        partner_filter = finance.get_by_test_id("statement-filter").get_by_label("Partner")
        partner_id = partner_filter.locator("option", has_text=PORTAL_PARTNER).get_attribute(
            "value"
        )
        _approve_drafts(finance, e2e_server, f"month={month:%Y-%m}&partner={partner_id}")

        # In the portal: the partner finds it and disputes its first line.
        partner.goto(f"{e2e_server}/portal/statements/")
        statements = partner.get_by_test_id("portal-statement-table")
        expect(statements).not_to_contain_text("Draft")
        statements.get_by_role("link", name=f"{month:%B %Y}").first.click()
        expect(partner.get_by_test_id("content-hash")).to_contain_text(re.compile(r"[0-9a-f]{64}"))
        statement_id = re.sub(r"^.*/portal/statements/(\d+)/.*$", r"\1", partner.url)
        form = partner.get_by_test_id("portal-dispute-form")
        line_choice = form.get_by_label("About")
        first_line = line_choice.locator("option").nth(1)
        line_choice.select_option(first_line.get_attribute("value"))
        form.get_by_label("What is wrong?").fill(comment)
        form.get_by_label("Attachment (optional)").set_input_files(
            {"name": "cdr-extract.csv", "mimeType": "text/csv", "buffer": b"cdr,count\nroam,2\n"}
        )
        form.get_by_role("button", name="Raise dispute").click()
        # It is a dispute of the partners app, about that statement line.
        expect(partner.locator("body")).to_contain_text("Your dispute was sent")
        expect(partner.locator("body")).to_contain_text(f"Statement {month:%Y-%m}: line 1")
        expect(partner.locator("body")).to_contain_text(comment)

        # Finance sees the dispute on the statement and resolves it with an adjustment.
        finance.goto(f"{e2e_server}/settlements/statements/{statement_id}/")
        disputes = finance.get_by_test_id("dispute-list")
        expect(disputes).to_contain_text(comment[:20])
        resolve = finance.get_by_test_id("resolve-form").first
        resolve.get_by_label("Resolution").fill("Confirmed: 12 roaming records were doubled.")
        resolve.get_by_label(re.compile(r"Adjustment")).fill("-12.50")
        resolve.get_by_role("button", name="Close dispute").click()
        adjustments = finance.get_by_test_id("adjustment-table")
        expect(adjustments).to_contain_text("12.50")
        expect(finance.get_by_test_id("statement-lifecycle")).to_contain_text("Approved")

        # The next month's run settles the adjustment in the partner's next statement.
        finance.goto(f"{e2e_server}/settlements/runs/")
        finance.get_by_test_id("run-form").get_by_label("Month").fill(f"{next_month:%Y-%m}")
        finance.get_by_test_id("run-form").get_by_role("button").click()
        expect(finance).to_have_url(re.compile(r"/settlements/runs/\d+/$"))
        expect(finance.get_by_test_id("run-progress")).to_contain_text("Done", timeout=BACKGROUND)
        finance.goto(f"{e2e_server}/settlements/statements/{statement_id}/")
        settled_in = finance.get_by_test_id("settled-in-link").first
        expect(settled_in).to_be_visible(timeout=BACKGROUND)
        settled_in.click()
        expect(finance.get_by_role("heading", level=1)).to_contain_text(PORTAL_PARTNER)
        lines = finance.get_by_test_id("line-table")
        expect(lines).to_contain_text("-12.50")
        expect(finance.get_by_test_id("corrects-link").first).to_be_visible()
    finally:
        finance_context.close()
        partner_context.close()
