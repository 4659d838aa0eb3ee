"""Usage upload in a real browser: dry-run preview with per-row errors, then the import page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_login import PASSWORD, sign_in

pytestmark = pytest.mark.e2e

CSV = (
    b"partner,product_code,event_time,quantity,gross_amount,tax_amount,currency,external_id\n"
    b"999999,video,2026-01-05T10:00:00Z,1,9.99,0,EUR,e2e-1\n"
    b"999999,video,not-a-date,1,9.99,0,XXX,e2e-2\n"
)


def test_finance_previews_a_file_with_errors_and_queues_the_import(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "finance@demo.test", PASSWORD)
    page.goto(f"{e2e_server}/settlements/usage/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Usage imports")
    page.get_by_test_id("upload-usage").click()

    form = page.get_by_test_id("upload-form")
    form.get_by_label("CSV file").set_input_files(
        {"name": "usage.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    page.get_by_test_id("preview-button").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("2 row(s)")
    errors = page.get_by_test_id("preview-errors")
    expect(errors).to_contain_text("unknown partner")
    expect(errors.locator("tbody tr").filter(has_text="event_time")).to_contain_text("2")
    expect(errors).to_contain_text("not an ISO 4217 currency code")
    expect(page.get_by_test_id("preview-rows").locator("tbody tr")).to_have_count(2)

    page.get_by_test_id("import-button").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Usage import")
    expect(page.get_by_test_id("progress")).to_be_visible()
    page.goto(f"{e2e_server}/settlements/usage/imports/")
    expect(page.get_by_test_id("import-table")).to_contain_text("usage.csv")


def test_products_and_fx_pages_show_demo_data(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "finance@demo.test", PASSWORD)
    page.goto(f"{e2e_server}/settlements/products/")
    expect(page.get_by_test_id("product-table")).to_contain_text("video")
    page.goto(f"{e2e_server}/settlements/fx-rates/")
    expect(page.get_by_test_id("fx-table")).to_contain_text("USD")
