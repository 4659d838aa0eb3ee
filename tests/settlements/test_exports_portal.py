"""Portal downloads: a partner gets its own visible statements as PDF and CSV, nothing else."""

from __future__ import annotations

import csv
import io

import pytest
from django.template.loader import render_to_string
from pypdf import PdfReader

from partnerhub.tenancy.context import tenant_context
from settlements.exports.tables import LINE_COLUMNS
from settlements.models import Statement
from settlements.services.exports import settlement_export_create, settlement_export_run
from tests.conftest import login
from tests.settlements.export_helpers import OCTOBER, make_statement


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    """Export files go to a temporary folder, not the worktree's media."""
    settings.MEDIA_ROOT = tmp_path


def test_partner_downloads_its_approved_statement_as_pdf_and_csv(personas):
    with tenant_context(personas.tenant_a):
        statement = make_statement(personas.a_partner, status=Statement.Status.PAID)
        links = render_to_string("settlements/portal/_downloads.html", {"statement": statement})
    client = login(personas.a_partner_user)
    assert f"/portal/statements/{statement.pk}/pdf/" in links
    pdf = client.get(f"/portal/statements/{statement.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Acme Content Ltd" in text and "300.00 EUR" in text
    response = client.get(f"/portal/statements/{statement.pk}/csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == list(LINE_COLUMNS)
    assert [(r["statement_id"], r["amount"]) for r in rows] == [(str(statement.pk), "300.0000")]


def test_partner_cannot_download_a_draft_another_partners_or_another_tenants_statement(
    personas,
):
    with tenant_context(personas.tenant_a):
        draft = make_statement(personas.a_partner, status=Statement.Status.DRAFT)
        other = make_statement(personas.a_other_partner, status=Statement.Status.APPROVED)
    with tenant_context(personas.tenant_b):
        foreign = make_statement(personas.b_partner, status=Statement.Status.APPROVED)
    client = login(personas.a_partner_user)
    for statement in (draft, other, foreign):
        for fmt in ("pdf", "csv"):
            assert client.get(f"/portal/statements/{statement.pk}/{fmt}/").status_code == 404
    # Staff pages are not for partner users, and staff get no portal downloads.
    assert client.get(f"/settlements/statements/{other.pk}/pdf/").status_code == 403
    staff = login(personas.a_finance)
    assert staff.get(f"/portal/statements/{other.pk}/pdf/").status_code in (403, 302)


def test_partner_downloads_only_exports_made_for_its_partner(personas):
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner, status=Statement.Status.APPROVED)
        make_statement(personas.a_other_partner, status=Statement.Status.APPROVED)
        own = settlement_export_create(
            kind="lines",
            file_format="csv",
            month=OCTOBER,
            partner=personas.a_partner,
            enqueue=False,
        )
        theirs = settlement_export_create(
            kind="lines",
            file_format="csv",
            month=OCTOBER,
            partner=personas.a_other_partner,
            enqueue=False,
        )
        tenant_wide = settlement_export_create(
            kind="lines", file_format="csv", month=OCTOBER, enqueue=False
        )
    for export in (own, theirs, tenant_wide):
        settlement_export_run(tenant=personas.tenant_a, export_id=export.pk)
    client = login(personas.a_partner_user)
    response = client.get(f"/portal/exports/{own.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Acme Content Ltd" in body and "Other Media SA" not in body
    for export in (theirs, tenant_wide):
        assert client.get(f"/portal/exports/{export.pk}/download/").status_code == 404
