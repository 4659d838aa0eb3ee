"""The partner registry in a real browser: list, filter, detail, contact, document upload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_login import PASSWORD, sign_in

pytestmark = pytest.mark.e2e

# A tiny but well-formed PDF: header, one empty page, cross-reference table, trailer.
TINY_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n"
    b"0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)


def test_manager_filters_opens_a_partner_adds_a_contact_and_uploads_a_document(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@demo.test", PASSWORD)
    page.goto(f"{e2e_server}/partners/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partners")
    rows = page.get_by_test_id("partner-table").locator("tbody tr")
    expect(rows.first).to_be_visible()

    page.get_by_label("Type", exact=True).select_option(label="Content provider")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]partner_type=\d+"))
    expect(rows.filter(has_not_text="Content provider")).to_have_count(0)
    expect(rows.filter(has_text="StreamWave Media")).to_have_count(1)

    page.get_by_role("link", name="StreamWave Media").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("StreamWave Media")
    header = page.get_by_test_id("partner-header")
    expect(header.get_by_test_id("status-badge")).to_have_text("Active")
    expect(header.get_by_test_id("partner-type")).to_have_text("Content provider")

    page.get_by_role("link", name="Add contact").click()
    page.get_by_label("Name", exact=True).fill("Petra Playwright")
    page.get_by_label("Role", exact=True).fill("Head of content")
    page.get_by_label("Email", exact=True).fill("petra@streamwave.example")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_test_id("messages")).to_contain_text("Petra Playwright was added")
    expect(page.get_by_test_id("contact-table")).to_contain_text("petra@streamwave.example")

    form = page.get_by_test_id("upload-form")
    # partners.js is deferred: a file chosen before it listens gets no proposed title.
    expect(page.locator("body")).to_have_attribute("data-partners-js", "ready")
    form.get_by_label("File").set_input_files(
        {"name": "content-licence.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}
    )
    expect(form.get_by_label("Title")).to_have_value("content-licence")  # from partners.js
    form.get_by_label("Document type").select_option(label="Content licence")
    form.get_by_role("button", name="Upload").click()

    expect(page.get_by_test_id("messages")).to_contain_text("content-licence was uploaded")
    documents = page.get_by_test_id("document-table")
    expect(documents).to_contain_text("content-licence.pdf")
    expect(documents.get_by_role("link", name="content-licence").first).to_have_attribute(
        "href", re.compile(r"^/partners/documents/\d+/download/$")
    )


def test_an_html_file_named_pdf_is_refused_in_the_browser(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "manager@demo.test", PASSWORD)
    page.goto(f"{e2e_server}/partners/?search=NordTower")
    page.get_by_role("link", name="NordTower Infrastructure").click()
    form = page.get_by_test_id("upload-form")
    # partners.js is deferred: a file chosen before it listens gets no proposed title.
    expect(page.locator("body")).to_have_attribute("data-partners-js", "ready")
    form.get_by_label("File").set_input_files(
        {"name": "insurance.pdf", "mimeType": "application/pdf", "buffer": b"<html>hi</html>"}
    )
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("upload-form")).to_contain_text("File type not allowed")
    # Nothing was stored: no document row carries the refused file's name.
    expect(page.get_by_text("insurance.pdf")).to_have_count(0)
