"""A partner user sees only their own partner: by page, API, file URL or guessed id; tenant B's
rows are as invisible as another partner's. CSP pages are closed to them, the portal to staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import tenant_context
from partners.models import (
    Agreement,
    AgreementStatus,
    ChecklistKind,
    ChecklistStep,
    Document,
    Partner,
    PartnerStatus,
)
from partners.services.documents import document_upload
from partners.services.onboarding import onboarding_start
from tests.conftest import Personas, bearer, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@dataclass
class Rows:
    own_document: Document
    other_document: Document
    foreign_document: Document
    own_agreement: Agreement
    other_agreement: Agreement
    foreign_agreement: Agreement
    own_step: ChecklistStep
    other_step: ChecklistStep
    foreign_step: ChecklistStep


def _document(partner: Partner, name: str, by: User) -> Document:
    return document_upload(
        partner=partner,
        upload=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
        doc_type="other",
        uploaded_by=by,
        title=name,
    )


def _agreement(partner: Partner, reference: str) -> Agreement:
    agreement = Agreement(
        partner=partner,
        agreement_type="reseller",
        reference=reference,
        title=f"Reseller agreement {reference}",
        status=AgreementStatus.PENDING_SIGNATURE,
        start_date=date(2026, 1, 1),
        terms="The partner resells the bundles.",
    )
    agreement.save()
    return agreement


def _partner_step(partner: Partner) -> ChecklistStep:
    onboarding_start(partner=partner, actor=None)
    return ChecklistStep.objects.get(
        partner=partner, kind=ChecklistKind.ONBOARDING, key="bank_details"
    )


@pytest.fixture
def rows(personas: Personas) -> Rows:
    with tenant_context(personas.tenant_a):
        own = dict(
            own_document=_document(personas.a_partner, "own.pdf", personas.a_manager),
            other_document=_document(personas.a_other_partner, "other.pdf", personas.a_manager),
            own_agreement=_agreement(personas.a_partner, "AG-OWN"),
            other_agreement=_agreement(personas.a_other_partner, "AG-OTHER"),
            own_step=_partner_step(personas.a_partner),
            other_step=_partner_step(personas.a_other_partner),
        )
    with tenant_context(personas.tenant_b):
        foreign = dict(
            foreign_document=_document(personas.b_partner, "foreign.pdf", personas.b_manager),
            foreign_agreement=_agreement(personas.b_partner, "AG-FOREIGN"),
            foreign_step=_partner_step(personas.b_partner),
        )
    return Rows(**own, **foreign)


def test_portal_pages_show_only_the_own_partner(personas: Personas, rows: Rows) -> None:
    client = login(personas.a_partner_user)
    pages = {
        "/portal/": "Acme",
        "/portal/documents/": "own.pdf",
        "/portal/agreements/": "AG-OWN",
        "/portal/checklist/": "Bank and payout details",
        "/portal/company/": "Acme Content Ltd",
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert expected in body, url
        for leaked in ("Other Media", "other.pdf", "AG-OTHER", "Bravo Foreign", "AG-FOREIGN"):
            assert leaked not in body, (url, leaked)


def test_own_document_downloads_as_an_attachment(personas: Personas, rows: Rows) -> None:
    response = login(personas.a_partner_user).get(
        f"/portal/documents/{rows.own_document.pk}/download/"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("which", ["other", "foreign"])
def test_guessed_ids_of_other_partners_answer_404_on_pages(
    personas: Personas, rows: Rows, which: str
) -> None:
    document = getattr(rows, f"{which}_document")
    agreement = getattr(rows, f"{which}_agreement")
    step = getattr(rows, f"{which}_step")
    client = login(personas.a_partner_user)
    assert client.get(f"/portal/documents/{document.pk}/download/").status_code == 404
    assert client.get(f"/portal/agreements/{agreement.pk}/").status_code == 404
    assert client.post(f"/portal/agreements/{agreement.pk}/accept/").status_code == 404
    assert client.get(f"/portal/checklist/{step.pk}/complete/").status_code == 404
    response = client.post(f"/portal/checklist/{step.pk}/complete/", {"note": "mine now"})
    assert response.status_code == 404
    tenant = personas.tenant_a if which == "other" else personas.tenant_b
    with tenant_context(tenant):
        step.refresh_from_db()
        agreement.refresh_from_db()
    assert step.state == ChecklistStep.State.PENDING
    assert agreement.accepted_by_partner_at is None


@pytest.mark.parametrize("which", ["other", "foreign"])
def test_guessed_ids_of_other_partners_answer_404_in_the_api(
    personas: Personas, rows: Rows, which: str
) -> None:
    document = getattr(rows, f"{which}_document")
    agreement = getattr(rows, f"{which}_agreement")
    step = getattr(rows, f"{which}_step")
    api = bearer(personas.a_partner_user, personas.tenant_a)
    base = "/api/v1/portal"
    assert api.get(f"{base}/documents/{document.pk}/").status_code == 404
    assert api.get(f"{base}/documents/{document.pk}/download/").status_code == 404
    assert api.get(f"{base}/agreements/{agreement.pk}/").status_code == 404
    assert api.post(f"{base}/agreements/{agreement.pk}/accept/").status_code == 404
    assert api.get(f"{base}/checklist/{step.pk}/").status_code == 404
    response = api.post(
        f"{base}/checklist/{step.pk}/complete/", {"note": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


@pytest.mark.parametrize("which", ["other", "foreign"])
def test_another_partners_document_as_evidence_is_a_400_does_not_exist(
    personas: Personas, rows: Rows, which: str
) -> None:
    document = getattr(rows, f"{which}_document")
    api = bearer(personas.a_partner_user, personas.tenant_a)
    response = api.post(
        f"/api/v1/portal/checklist/{rows.own_step.pk}/complete/",
        {"note": "see document", "document": document.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "does not exist" in str(response.json()["error"]["details"]["document"])
    with tenant_context(personas.tenant_a):
        rows.own_step.refresh_from_db()
    assert rows.own_step.state == ChecklistStep.State.PENDING


def test_api_lists_contain_only_the_own_partners_rows(personas: Personas, rows: Rows) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    ids = {
        "documents": {rows.own_document.pk},
        "agreements": {rows.own_agreement.pk},
    }
    for name, expected in ids.items():
        body = api.get(f"/api/v1/portal/{name}/").json()
        assert {row["id"] for row in body["results"]} == expected, name
    steps = api.get("/api/v1/portal/checklist/?page_size=100").json()["results"]
    with tenant_context(personas.tenant_a):
        own_steps = set(
            ChecklistStep.objects.filter(partner=personas.a_partner).values_list("pk", flat=True)
        )
    assert {row["id"] for row in steps} == own_steps
    partner = api.get("/api/v1/portal/partner/").json()
    assert partner["id"] == personas.a_partner.pk
    assert partner["legal_name"] == "Acme Content Ltd"


def test_partner_user_cannot_use_csp_endpoints_or_pages(personas: Personas, rows: Rows) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    for url in (
        "/api/v1/partners/",
        f"/api/v1/partners/{personas.a_partner.pk}/",
        "/api/v1/agreements/",
        "/api/v1/audit/",
        "/api/v1/change-requests/",
    ):
        assert api.get(url).status_code == 403, url
    client = login(personas.a_partner_user)
    for url in ("/partners/", f"/partners/{personas.a_partner.pk}/", "/audit/"):
        assert client.get(url).status_code == 403, url
    # The CSP file URL of its own document is closed too: the portal serves its own downloads.
    assert client.get(f"/partners/documents/{rows.own_document.pk}/download/").status_code == 403


@pytest.mark.parametrize("role", ["a_admin", "a_manager", "a_finance", "a_viewer", "b_manager"])
def test_csp_staff_get_403_in_the_portal(personas: Personas, role: str) -> None:
    user: User = getattr(personas, role)
    assert login(user).get("/portal/").status_code == 403
    assert login(user).get("/portal/documents/").status_code == 403
    tenant = personas.tenant_b if role == "b_manager" else personas.tenant_a
    assert bearer(user, tenant).get("/api/v1/portal/partner/").status_code == 403
    assert bearer(user, tenant).get("/api/v1/portal/documents/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(personas: Personas) -> None:
    from django.test import Client

    response = Client().get("/portal/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Client().get("/api/v1/portal/partner/").status_code in (401, 403)


def test_exited_partner_can_no_longer_use_the_portal(personas: Personas, rows: Rows) -> None:
    with tenant_context(personas.tenant_a):
        Partner.objects.filter(pk=personas.a_partner.pk).update(status=PartnerStatus.EXITED)
    client = login(personas.a_partner_user)
    assert client.get("/portal/").status_code == 404
    assert client.get(f"/portal/documents/{rows.own_document.pk}/download/").status_code == 404
    api = bearer(personas.a_partner_user, personas.tenant_a)
    assert api.get("/api/v1/portal/partner/").status_code == 403
    assert api.get(f"/api/v1/portal/documents/{rows.own_document.pk}/download/").status_code == 403


def test_partner_accepts_its_own_agreement_once(personas: Personas, rows: Rows) -> None:
    client = login(personas.a_partner_user)
    detail = client.get(f"/portal/agreements/{rows.own_agreement.pk}/").content.decode()
    assert "Accept this agreement" in detail
    response = client.post(f"/portal/agreements/{rows.own_agreement.pk}/accept/")
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        rows.own_agreement.refresh_from_db()
    assert rows.own_agreement.accepted_by_partner_at is not None
    assert rows.own_agreement.accepted_by == personas.a_partner_user
    detail = client.get(f"/portal/agreements/{rows.own_agreement.pk}/").content.decode()
    assert "Accept this agreement" not in detail
    api = bearer(personas.a_partner_user, personas.tenant_a)
    body = api.get(f"/api/v1/portal/agreements/{rows.own_agreement.pk}/").json()
    assert body["can_accept"] is False


def test_draft_agreements_stay_internal(personas: Personas, rows: Rows) -> None:
    with tenant_context(personas.tenant_a):
        Agreement.objects.filter(pk=rows.own_agreement.pk).update(status=AgreementStatus.DRAFT)
    client = login(personas.a_partner_user)
    assert client.get(f"/portal/agreements/{rows.own_agreement.pk}/").status_code == 404
    assert "AG-OWN" not in client.get("/portal/agreements/").content.decode()
