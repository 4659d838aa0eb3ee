"""The partner portal in a real browser: applying through /apply/demo/ with the emailed
confirmation link, and a partner completing a checklist step and uploading a document."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Mailbox

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "partnerhub-demo"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_applicant_applies_confirms_the_emailed_link_and_lands_in_the_portal(
    page: Page, e2e_server: str, mailbox: Mailbox
) -> None:
    suffix = uuid.uuid4().hex[:6]
    email = f"aino.{suffix}@aurora-fibre.example"
    page.goto(f"{e2e_server}/apply/demo/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Become a partner of Demo Telecom")
    page.get_by_label("Legal company name").fill(f"Aurora Fibre Networks {suffix} Oy")
    page.get_by_label("Trading name").fill(f"Aurora Fibre {suffix}")
    page.get_by_label("Country").fill("FI")
    page.get_by_label("Website").fill("https://aurora-fibre.example")
    page.get_by_label("Partnership type").select_option(label="Infrastructure provider")
    page.get_by_label("What you offer").fill("Dark fibre and tower sites across Finland.")
    page.get_by_label("Your name").fill("Aino Aurora")
    page.get_by_label("Your email").fill(email)
    page.get_by_role("button", name="Send application").click()

    expect(page.get_by_test_id("application-sent")).to_contain_text(email)
    body = Mailbox.body(mailbox.last_to(email))
    link = re.search(r"https?://\S+/apply/demo/confirm/[\w-]+/", body)
    assert link, body

    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your application")
    page.get_by_label("Password", exact=True).fill("aurora-fibre-portal-2026")
    page.get_by_label("Password again").fill("aurora-fibre-portal-2026")
    page.get_by_role("button", name="Confirm and open the portal").click()

    expect(page).to_have_url(f"{e2e_server}/portal/")
    expect(page.get_by_test_id("partner-name")).to_have_text(f"Aurora Fibre {suffix}")
    expect(page.get_by_test_id("partner-status")).to_have_text("Applied")
    expect(page.get_by_test_id("lifecycle").locator("[aria-current=step]")).to_have_text("Applied")
    expect(page.get_by_test_id("steps-for-partner")).to_contain_text("Insurance certificate")

    # The link worked once.
    page.goto(link.group(0))
    expect(page.get_by_test_id("invalid-link")).to_contain_text("This link no longer works")


def test_partner_completes_a_checklist_step_and_uploads_a_pdf(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "applicant@demo.test", DEMO_PASSWORD)
    # Partner users land in the portal, not on the staff dashboard.
    expect(page).to_have_url(f"{e2e_server}/portal/")
    expect(page.get_by_test_id("partner-name")).to_have_text("NordTower Infrastructure")
    expect(page.get_by_test_id("partner-status")).to_have_text("Due diligence")

    page.get_by_test_id("portal-nav").get_by_role("link", name="Checklist").click()
    table = page.get_by_test_id("checklist-table")
    open_steps = table.locator("tr[data-state=pending]").filter(
        has=page.get_by_role("link", name="Complete")
    )
    document_steps = open_steps.and_(table.locator("tr[data-evidence=document]"))
    row = document_steps.first if document_steps.count() else open_steps.first
    key = row.get_attribute("data-step")
    evidence = row.get_attribute("data-evidence")
    title = row.locator("td").first.locator(".fw-semibold").inner_text()
    row.get_by_role("link", name="Complete").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    if evidence == "document":
        page.get_by_label("Or upload a file").set_input_files(
            {"name": f"{key}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
    page.get_by_label("Note").fill("Sent by the NordTower compliance team.")
    page.get_by_role("button", name="Mark as done").click()

    expect(page).to_have_url(f"{e2e_server}/portal/checklist/")
    expect(page.get_by_test_id("messages")).to_contain_text(f"“{title}” is done")
    done_row = page.get_by_test_id("checklist-table").locator(f"tr[data-step={key}]")
    expect(done_row).to_have_attribute("data-state", "done")
    expect(done_row).to_contain_text("Done")

    # A document of its own, through the documents page; a disguised file is refused.
    page.get_by_test_id("portal-nav").get_by_role("link", name="Documents").click()
    form = page.get_by_test_id("upload-form")
    form.get_by_label("File").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"<html>hi</html>"}
    )
    form.get_by_label("Type").select_option(label="Insurance certificate")
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("upload-form")).to_contain_text("File type not allowed")

    form = page.get_by_test_id("upload-form")
    form.get_by_label("File").set_input_files(
        {"name": "liability-2026.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    form.get_by_label("Type").select_option(label="Insurance certificate")
    form.get_by_label("Title").fill("Public liability insurance 2026")
    form.get_by_role("button", name="Upload").click()

    expect(page.get_by_test_id("messages")).to_contain_text("is uploaded")
    documents = page.get_by_test_id("documents-table")
    expect(documents).to_contain_text("Public liability insurance 2026")
    expect(documents).not_to_contain_text("invoice.pdf")
    if evidence == "document":
        expect(documents).to_contain_text(f"{key}.pdf")
    with page.expect_download() as download:
        documents.get_by_role("link", name="Public liability insurance 2026").click()
    assert download.value.suggested_filename == "liability-2026.pdf"


def test_partner_user_reaches_no_other_partner_and_an_oversized_file_changes_nothing(
    page: Page, e2e_server: str
) -> None:
    # Another partner's agreement and document, as the demo manager sees them in the API.
    api = page.context.request
    token = api.post(
        f"{e2e_server}/api/v1/auth/token/",
        data={
            "email": "manager@demo.test",
            "password": DEMO_PASSWORD,
            "tenant": "demo",
            "name": "e2e isolation",
        },
    ).json()["token"]
    staff = {"Authorization": f"Bearer {token}"}
    agreements = api.get(
        f"{e2e_server}/api/v1/agreements/?status=active&page_size=500", headers=staff
    ).json()["results"]

    sign_in(page, e2e_server, "partner@demo.test", DEMO_PASSWORD)
    expect(page).to_have_url(f"{e2e_server}/portal/")
    own = api.get(f"{e2e_server}/api/v1/portal/partner/").json()
    foreign_agreement = next(a for a in agreements if a["partner"] != own["id"])
    foreign_partner = foreign_agreement["partner"]
    document = api.post(
        f"{e2e_server}/api/v1/partners/{foreign_partner}/documents/",
        headers=staff,
        multipart={
            "file": {"name": "secret.pdf", "mimeType": "application/pdf", "buffer": PDF},
            "doc_type": "other",
            "title": "Someone else's secret",
        },
    )
    assert document.status == 201, document.text()
    foreign_document = document.json()["id"]

    # By page, file URL and guessed id: as if it did not exist; CSP pages are forbidden.
    for path in (
        f"/portal/agreements/{foreign_agreement['id']}/",
        f"/portal/documents/{foreign_document}/download/",
    ):
        response = page.goto(f"{e2e_server}{path}")
        assert response is not None and response.status == 404, path
    response = page.goto(f"{e2e_server}/partners/{foreign_partner}/")
    assert response is not None and response.status == 403
    # ... and by API, with the partner user's own session.
    for path in (
        f"/api/v1/portal/agreements/{foreign_agreement['id']}/",
        f"/api/v1/portal/documents/{foreign_document}/download/",
    ):
        answer = api.get(f"{e2e_server}{path}")
        assert answer.status == 404, path
        assert answer.json()["error"]["status"] == 404
    page.goto(f"{e2e_server}/portal/agreements/")
    expect(page.locator("main")).not_to_contain_text(foreign_agreement["reference"])

    # An oversized file gets a clear error, and the document list stays as it was.
    page.goto(f"{e2e_server}/portal/documents/")
    before = (
        page.get_by_test_id("documents-table").inner_text()
        if page.get_by_test_id("documents-table").count()
        else ""
    )
    form = page.get_by_test_id("upload-form")
    form.get_by_label("File").set_input_files(
        {
            "name": "huge.pdf",
            "mimeType": "application/pdf",
            "buffer": PDF + b"0" * (11 * 1024 * 1024),
        },
        timeout=90_000,  # 11 MB through the browser protocol takes a while on a busy machine
    )
    form.get_by_label("Type").select_option(label="Insurance certificate")
    form.get_by_label("Title").fill("Far too big")
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("upload-form")).to_contain_text(
        "larger than the 10 MB limit", timeout=90_000
    )
    page.goto(f"{e2e_server}/portal/documents/")
    after = (
        page.get_by_test_id("documents-table").inner_text()
        if page.get_by_test_id("documents-table").count()
        else ""
    )
    assert after == before
    assert "Far too big" not in after
