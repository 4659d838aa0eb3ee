"""Uploads in the portal: checked by content and size; a refused file leaves no row and no file.
Checklist steps completed by the partner with a note or a document."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerhub.tenancy.context import tenant_context
from partners.models import ChecklistStep, Document, ProgramSettings
from partners.services.onboarding import onboarding_start
from tests.conftest import Personas, bearer, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def documents_of(personas: Personas) -> list[Document]:
    with tenant_context(personas.tenant_a):
        return list(Document.objects.filter(partner=personas.a_partner))


@pytest.fixture
def steps(personas: Personas) -> dict[str, ChecklistStep]:
    with tenant_context(personas.tenant_a):
        onboarding_start(partner=personas.a_partner, actor=None)
        return {s.key: s for s in ChecklistStep.objects.filter(partner=personas.a_partner)}


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_pdf_upload_is_stored_under_the_tenant_and_partner_and_listed(
    personas: Personas, media: Path
) -> None:
    client = login(personas.a_partner_user)
    response = client.post(
        "/portal/documents/",
        {"file": upload("licence.pdf", PDF), "doc_type": "content_licence", "title": "Licence"},
    )
    assert response.status_code == 302
    [document] = documents_of(personas)
    assert document.content_type == "application/pdf"
    assert document.uploaded_by == personas.a_partner_user
    assert f"/partners/{personas.a_partner.pk}/" in document.file.name
    assert "Licence" in client.get("/portal/documents/").content.decode()


def test_uploaded_file_is_stored_under_its_tenant(personas: Personas, media: Path) -> None:
    login(personas.a_partner_user).post(
        "/portal/documents/", {"file": upload("licence.pdf", PDF), "doc_type": "other"}
    )
    [document] = documents_of(personas)
    assert document.file.name.startswith(
        f"tenants/{personas.tenant_a.pk}/partners/{personas.a_partner.pk}/"
    )


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_html_disguised_as_pdf_is_refused_with_nothing_stored(
    personas: Personas, media: Path, api: bool
) -> None:
    data = {"file": upload("invoice.pdf", HTML), "doc_type": "other"}
    if api:
        response = bearer(personas.a_partner_user, personas.tenant_a).post(
            "/api/v1/portal/documents/", data
        )
        assert response.status_code == 400
        message = str(response.json()["error"])
    else:
        response = login(personas.a_partner_user).post("/portal/documents/", data)
        assert response.status_code == 400
        message = response.content.decode()
    assert "File type not allowed" in message
    assert documents_of(personas) == []
    assert stored_files(media) == []


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_oversized_file_is_refused_with_nothing_stored(
    personas: Personas, media: Path, api: bool
) -> None:
    with tenant_context(personas.tenant_a):
        ProgramSettings.objects.update(max_upload_mb=1)
    big = PDF + b"0" * (1024 * 1024)
    data = {"file": upload("big.pdf", big), "doc_type": "other"}
    if api:
        response = bearer(personas.a_partner_user, personas.tenant_a).post(
            "/api/v1/portal/documents/", data
        )
        message = str(response.json()["error"])
    else:
        response = login(personas.a_partner_user).post("/portal/documents/", data)
        message = response.content.decode()
    assert response.status_code == 400
    assert "larger than the 1 MB limit" in message
    assert documents_of(personas) == []
    assert stored_files(media) == []


def test_api_upload_returns_the_document_and_its_download_url(
    personas: Personas, media: Path
) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    response = api.post(
        "/api/v1/portal/documents/",
        {"file": upload("tax.pdf", PDF), "doc_type": "tax_form", "expires_on": "2027-12-31"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["doc_type"] == "tax_form"
    assert body["original_name"] == "tax.pdf"
    download = api.get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_step_completed_with_a_note(personas: Personas, steps: dict[str, ChecklistStep]) -> None:
    step = steps["bank_details"]
    client = login(personas.a_partner_user)
    refused = client.post(f"/portal/checklist/{step.pk}/complete/", {"note": "  "})
    assert refused.status_code == 400
    assert "needs a note" in refused.content.decode()

    response = client.post(
        f"/portal/checklist/{step.pk}/complete/", {"note": "IBAN sent via the bank form"}
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        step.refresh_from_db()
    assert step.state == ChecklistStep.State.DONE
    assert step.completed_by == personas.a_partner_user
    assert step.note == "IBAN sent via the bank form"


def test_step_completed_with_an_uploaded_document(
    personas: Personas, steps: dict[str, ChecklistStep], media: Path
) -> None:
    step = steps["tax_form"]
    response = login(personas.a_partner_user).post(
        f"/portal/checklist/{step.pk}/complete/", {"file": upload("w8.pdf", PDF), "note": ""}
    )
    assert response.status_code == 302
    [document] = documents_of(personas)
    assert document.doc_type == "tax_form"
    with tenant_context(personas.tenant_a):
        step.refresh_from_db()
    assert step.state == ChecklistStep.State.DONE
    assert step.document_id == document.pk


def test_disguised_file_for_a_step_leaves_the_step_pending_and_nothing_stored(
    personas: Personas, steps: dict[str, ChecklistStep], media: Path
) -> None:
    step = steps["tax_form"]
    response = login(personas.a_partner_user).post(
        f"/portal/checklist/{step.pk}/complete/", {"file": upload("w8.pdf", HTML)}
    )
    assert response.status_code == 400
    assert "File type not allowed" in response.content.decode()
    assert documents_of(personas) == []
    assert stored_files(media) == []
    with tenant_context(personas.tenant_a):
        step.refresh_from_db()
    assert step.state == ChecklistStep.State.PENDING


def test_csp_step_cannot_be_completed_by_the_partner_and_its_upload_is_removed(
    personas: Personas, steps: dict[str, ChecklistStep], media: Path
) -> None:
    step = steps["contract_signed"]  # completed by CSP staff
    response = login(personas.a_partner_user).post(
        f"/portal/checklist/{step.pk}/complete/", {"file": upload("contract.pdf", PDF)}
    )
    assert response.status_code == 400
    assert "can only be completed by CSP staff" in response.content.decode()
    assert documents_of(personas) == []
    assert stored_files(media) == []
    api = bearer(personas.a_partner_user, personas.tenant_a)
    refused = api.post(
        f"/api/v1/portal/checklist/{step.pk}/complete/",
        {"note": "signed"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "CSP staff" in str(refused.json()["error"]["details"])


def test_step_completed_in_the_api_with_an_own_document(
    personas: Personas, steps: dict[str, ChecklistStep]
) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    created = api.post(
        "/api/v1/portal/documents/", {"file": upload("reg.pdf", PDF), "doc_type": "other"}
    ).json()
    step = steps["company_documents"]
    response = api.post(
        f"/api/v1/portal/checklist/{step.pk}/complete/",
        {"document": created["id"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["state"] == "done"
    assert response.json()["document"] == created["id"]
    again = api.post(
        f"/api/v1/portal/checklist/{step.pk}/complete/",
        {"document": created["id"]},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert "already done" in str(again.json()["error"]["details"])


def test_home_lists_the_steps_the_partner_must_do_and_the_progress(
    personas: Personas, steps: dict[str, ChecklistStep]
) -> None:
    body = login(personas.a_partner_user).get("/portal/").content.decode()
    assert "Tax form" in body  # a partner step
    assert "Risk assessment completed" not in body.split('data-testid="steps-for-partner"')[1]
    mandatory = sum(1 for s in steps.values() if s.mandatory)
    assert f"0 of {mandatory} required steps done" in body
