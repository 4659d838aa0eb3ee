"""PDF statements, their ZIP, and the export task: progress, stored file, download, scope."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import override_settings
from pypdf import PdfReader

from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.services import tenant_letterhead_update
from settlements.exports.filters import statements_for_export
from settlements.exports.pdf import statement_pdf
from settlements.models import SettlementExport, Statement
from settlements.services.exports import settlement_export_create
from settlements.tasks import settlement_export_build
from tests.conftest import bearer, login
from tests.settlements.export_helpers import OCTOBER, make_statement


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    """Export files go to a temporary folder, not the worktree's media."""
    settings.MEDIA_ROOT = tmp_path


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_statement_shows_letterhead_partner_lines_adjustments_totals_and_hash(
    personas, as_tenant_a
):
    tenant_letterhead_update(
        tenant=personas.tenant_a,
        legal_name="Alpha Telecom GmbH",
        address="Hauptstraße 1\n10115 Berlin",
        tax_id="DE123456789",
    )
    statement = make_statement(personas.a_partner, adjustment="-10.00", share="290.00")
    loaded = statements_for_export(ids=[statement.pk], with_lines=True)[0]
    text = pdf_text(statement_pdf(loaded, tenant=personas.tenant_a))
    for expected in (
        "Alpha Telecom GmbH",
        "Hauptstraße 1",
        "DE123456789",
        "Acme Content Ltd",
        "2026-10",
        "Approved",
        "1,000.00 EUR",  # basis of the rule line and the total basis
        "30 %",
        "Correction of September",
        "-10.00 EUR",
        "290.00 EUR",
        "ab" * 32,
    ):
        assert expected in text, expected


def test_staff_pdf_download_and_zip_of_a_months_pdfs(personas):
    with tenant_context(personas.tenant_a):
        first = make_statement(personas.a_partner, share="300.00")
        second = make_statement(personas.a_other_partner, share="123.45", currency="USD")
    client = login(personas.a_finance)
    response = client.get(f"/settlements/statements/{first.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert "Acme Content Ltd" in pdf_text(response.content)
    response = client.post(
        "/settlements/exports/new/",
        {"kind": "pdf_zip", "file_format": "zip", "month": "2026-10", "download_now": "1"},
    )
    assert response.status_code == 200, response.content
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert len(names) == 2 and all(n.endswith(".pdf") for n in names)
    texts = {name: pdf_text(archive.read(name)) for name in names}
    assert any("Acme Content Ltd" in t and "300.00 EUR" in t for t in texts.values())
    assert any("Other Media SA" in t and "123.45 USD" in t for t in texts.values())
    assert str(second.pk) in " ".join(names)


@override_settings(SETTLEMENT_EXPORT_BATCH_SIZE=1)
@pytest.mark.parametrize(("kind", "file_format"), [("lines", "xlsx"), ("pdf_zip", "zip")])
def test_export_task_reports_progress_and_stores_a_downloadable_file(personas, kind, file_format):
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner)
        make_statement(personas.a_other_partner, status=Statement.Status.DRAFT)
        export = settlement_export_create(
            kind=kind, file_format=file_format, month=OCTOBER, enqueue=False
        )
    settlement_export_build(personas.tenant_a.pk, export.pk)
    with tenant_context(personas.tenant_a):
        export.refresh_from_db()
    assert export.status == SettlementExport.Status.DONE and export.progress == 100
    assert export.statements_total == export.statements_done == 2
    assert export.file.name.startswith(f"tenants/{personas.tenant_a.pk}/settlements/exports/")
    response = login(personas.a_viewer).get(f"/settlements/exports/{export.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert len(body) == export.size and response["Cache-Control"] == "private, no-store"
    page = login(personas.a_finance).get(f"/settlements/exports/{export.pk}/")
    assert b"100 %" in page.content and b'data-testid="export-download"' in page.content
    # Running the task again (a redelivery) keeps the finished file.
    settlement_export_build(personas.tenant_a.pk, export.pk)
    with tenant_context(personas.tenant_a):
        assert SettlementExport.objects.get(pk=export.pk).file.name == export.file.name


def test_failed_export_records_its_error(personas, monkeypatch):
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner)
        export = settlement_export_create(
            kind="statements", file_format="csv", month=OCTOBER, enqueue=False
        )

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("settlements.services.exports.ExportWriter.add", boom)
    with pytest.raises(RuntimeError):
        settlement_export_build(personas.tenant_a.pk, export.pk)
    with tenant_context(personas.tenant_a):
        export.refresh_from_db()
    assert export.status == SettlementExport.Status.FAILED and "disk full" in export.error
    assert (
        login(personas.a_finance).get(f"/settlements/exports/{export.pk}/download/").status_code
        == 404
    )


def test_another_tenants_export_is_a_404_on_pages_and_api(personas):
    with tenant_context(personas.tenant_b):
        make_statement(personas.b_partner)
        b_export = settlement_export_create(
            kind="statements", file_format="csv", month=OCTOBER, enqueue=False
        )
    settlement_export_build(personas.tenant_b.pk, b_export.pk)
    client = login(personas.a_finance)
    for url in (
        f"/settlements/exports/{b_export.pk}/",
        f"/settlements/exports/{b_export.pk}/download/",
    ):
        assert client.get(url).status_code == 404
    api = bearer(personas.a_finance, personas.tenant_a)
    for url in (
        f"/api/v1/settlements/exports/{b_export.pk}/",
        f"/api/v1/settlements/exports/{b_export.pk}/download/",
    ):
        assert api.get(url).status_code == 404
    b_api = bearer(personas.b_manager, personas.tenant_b)
    assert b_api.get(f"/api/v1/settlements/exports/{b_export.pk}/download/").status_code == 200
