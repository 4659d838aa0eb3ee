"""Portal lists run a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from partnerhub.tenancy.context import tenant_context
from partners.models import Agreement, AgreementStatus, ChangeRequest, ChecklistStep
from partners.services.documents import document_upload
from tests.conftest import Personas, bearer, login

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def grow(personas: Personas, upto: int) -> None:
    """Documents, agreements, checklist steps and change requests of the partner, up to ``upto``."""
    partner = personas.a_partner
    with tenant_context(personas.tenant_a):
        start = ChecklistStep.objects.filter(partner=partner).count()
        for n in range(start, upto):
            document_upload(
                partner=partner,
                upload=SimpleUploadedFile(f"d{n}.pdf", PDF),
                doc_type="other",
                uploaded_by=personas.a_partner_user if n % 2 else personas.a_manager,
            )
            Agreement.objects.create(
                partner=partner,
                agreement_type="reseller",
                reference=f"AG-{n}",
                title=f"Agreement {n}",
                status=AgreementStatus.ACTIVE,
                start_date=date(2026, 1, 1),
            )
            document = document_upload(
                partner=partner,
                upload=SimpleUploadedFile(f"e{n}.pdf", PDF),
                doc_type="evidence",
                uploaded_by=personas.a_partner_user,
            )
            ChecklistStep.objects.create(
                partner=partner,
                kind="onboarding",
                key=f"step-{n}",
                title=f"Step {n}",
                completed_by_party="partner",
                state="done" if n % 2 else "pending",
                document=document if n % 2 else None,
                completed_by=personas.a_partner_user if n % 2 else None,
            )
            ChangeRequest.objects.create(
                partner=partner,
                kind="company",
                payload={"trading_name": f"T{n}"},
                status="approved",
                requested_by=personas.a_partner_user,
            )


PAGES = [
    "/portal/",
    "/portal/checklist/",
    "/portal/documents/",
    "/portal/agreements/",
    "/portal/company/",
]
ENDPOINTS = [
    "/api/v1/portal/partner/",
    "/api/v1/portal/checklist/",
    "/api/v1/portal/documents/",
    "/api/v1/portal/agreements/",
    "/api/v1/portal/change-requests/",
]


def count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


def test_portal_pages_and_endpoints_run_constant_queries(
    personas: Personas, django_assert_max_num_queries
) -> None:
    page = login(personas.a_partner_user)
    api = bearer(personas.a_partner_user, personas.tenant_a)
    clients = {url: api if url.startswith("/api/") else page for url in PAGES + ENDPOINTS}
    grow(personas, 3)
    few = {}
    for url, client in clients.items():
        client.get(url)  # warm the session
        few[url] = count(client, url)
    grow(personas, 30)
    for url, client in clients.items():
        with django_assert_max_num_queries(few[url]):
            assert client.get(url).status_code == 200, url
