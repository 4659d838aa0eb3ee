"""Export pages and API: create (202), poll, download, list query counts, roles, GL settings."""

from __future__ import annotations

import csv
import io

import pytest

from partnerhub.tenancy.context import tenant_context
from settlements.models import JournalSettings, SettlementExport
from settlements.services.exports import settlement_export_create
from settlements.tasks import settlement_export_build
from tests.conftest import bearer, login
from tests.settlements.export_helpers import OCTOBER, make_statement


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    """Export files go to a temporary folder, not the worktree's media."""
    settings.MEDIA_ROOT = tmp_path


def test_api_creates_polls_and_downloads_an_export(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(
        settlement_export_build, "apply_async", lambda args, **_: queued.append(tuple(args))
    )
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner)
        make_statement(personas.a_other_partner, currency="USD")
    api = bearer(personas.a_finance, personas.tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/settlements/exports/",
            {
                "kind": "statements",
                "file_format": "csv",
                "month": "2026-10",
                "filters": {"currency": "USD", "status": ["approved"]},
            },
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["download_url"] is None
    assert body["filters"] == {"currency": "USD", "status": ["approved"]}
    assert queued == [(personas.tenant_a.pk, body["id"])]
    settlement_export_build(*queued[0])
    polled = api.get(f"/api/v1/settlements/exports/{body['id']}/").json()
    assert polled["status"] == "done" and polled["progress"] == 100
    download = api.get(polled["download_url"])
    rows = list(
        csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig")))
    )
    assert [r["currency"] for r in rows] == ["USD"]


def test_api_refuses_bad_exports_naming_the_problem(personas):
    api = bearer(personas.a_finance, personas.tenant_a)
    cases = [
        ({"kind": "pdf_zip", "file_format": "csv", "month": "2026-10"}, "file_format"),
        ({"kind": "statements", "file_format": "csv", "month": "2026-13"}, "month"),
        (
            {
                "kind": "statements",
                "file_format": "csv",
                "month": "2026-10",
                "filters": {"currency": "EURO"},
            },
            "currency",
        ),
        (
            {
                "kind": "journal",
                "file_format": "csv",
                "month": "2026-10",
                "filters": {"currency": "XYZ"},
            },
            "currency",
        ),
    ]
    for payload, field in cases:
        response = api.post(
            "/api/v1/settlements/exports/", payload, content_type="application/json"
        )
        assert response.status_code == 400, payload
        assert field in response.content.decode(), response.content
    with tenant_context(personas.tenant_a):
        assert not SettlementExport.objects.exists()


def test_export_pages_create_list_and_poll(personas, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(settlement_export_build, "apply_async", lambda args, **_: None)
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner)
    with tenant_context(personas.tenant_b):
        settlement_export_create(kind="journal", file_format="csv", month=OCTOBER, enqueue=False)
    viewer = login(personas.a_viewer)
    form = viewer.get("/settlements/exports/new/?month=2026-10").content.decode()
    assert 'value="2026-10"' in form
    response = viewer.post(
        "/settlements/exports/new/",
        {"kind": "lines", "file_format": "xlsx", "month": "2026-10", "status": ["approved"]},
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        export = SettlementExport.objects.get()
    assert export.filters == {"status": ["approved"]} and export.created_by == personas.a_viewer
    bad = viewer.post(
        "/settlements/exports/new/", {"kind": "pdf_zip", "file_format": "xlsx", "month": "2026-10"}
    )
    assert bad.status_code == 400 and "zip" in bad.content.decode()
    fragment = viewer.get(f"/settlements/exports/{export.pk}/", headers={"HX-Request": "true"})
    assert b'hx-trigger="every 2s"' in fragment.content and b"<html" not in fragment.content
    for _ in range(3):
        with tenant_context(personas.tenant_a):
            settlement_export_create(
                kind="statements", file_format="csv", month=OCTOBER, enqueue=False
            )
    # Constant whatever the number of exports (pinned with 1 and with 4 rows).
    with django_assert_num_queries(8):
        page = viewer.get("/settlements/exports/")
    assert page.content.decode().count("/settlements/exports/") >= 4
    assert "Journal (GL entries)" not in page.content.decode()  # tenant B's export


def test_download_now_refuses_a_month_above_the_limit(personas, settings):
    settings.SETTLEMENT_EXPORT_SYNC_LIMIT = 1
    with tenant_context(personas.tenant_a):
        make_statement(personas.a_partner)
        make_statement(personas.a_other_partner)
    response = login(personas.a_finance).post(
        "/settlements/exports/new/",
        {"kind": "statements", "file_format": "csv", "month": "2026-10", "download_now": "1"},
    )
    assert response.status_code == 400 and "More than 1 statements" in response.content.decode()


def test_journal_settings_page_and_api_for_finance_only(personas):
    finance = login(personas.a_finance)
    assert finance.get("/settlements/journal-settings/").status_code == 200
    response = finance.post(
        "/settlements/journal-settings/",
        {
            "partner_payable_account": "2000",
            "partner_receivable_account": "1400",
            "revenue_share_expense_account": "6000",
            "revenue_share_income_account": "4000",
            "journal_code": "RS",
            "legal_name": "Alpha Telecom GmbH",
            "address": "Street 1\nBerlin",
            "tax_id": "DE1",
        },
    )
    assert response.status_code == 302
    personas.tenant_a.refresh_from_db()
    assert personas.tenant_a.address == "Street 1\nBerlin"
    assert login(personas.a_viewer).get("/settlements/journal-settings/").status_code == 403
    api = bearer(personas.a_admin, personas.tenant_a)
    assert (
        api.get("/api/v1/settlements/journal-settings/").json()["partner_payable_account"] == "2000"
    )
    response = api.patch(
        "/api/v1/settlements/journal-settings/",
        {"revenue_share_income_account": "4 000 ="},
        content_type="application/json",
    )
    assert (
        response.status_code == 400 and "revenue_share_income_account" in response.content.decode()
    )
    response = api.patch(
        "/api/v1/settlements/journal-settings/",
        {"revenue_share_income_account": "4010"},
        content_type="application/json",
    )
    assert response.status_code == 200
    with tenant_context(personas.tenant_a):
        journal = JournalSettings.objects.get()
    assert (journal.revenue_share_income_account, journal.partner_payable_account) == (
        "4010",
        "2000",
    )
    viewer_api = bearer(personas.a_viewer, personas.tenant_a)
    assert viewer_api.get("/api/v1/settlements/journal-settings/").status_code == 403
    with tenant_context(personas.tenant_b):
        assert not JournalSettings.objects.exists()


def test_api_list_runs_a_constant_number_of_queries(personas, django_assert_num_queries):
    api = bearer(personas.a_finance, personas.tenant_a)
    api.get("/api/v1/settlements/exports/")  # the token's first use is recorded once
    for count in (1, 5):
        with tenant_context(personas.tenant_a):
            for _ in range(count):
                settlement_export_create(
                    kind="statements", file_format="csv", month=OCTOBER, enqueue=False
                )
        with django_assert_num_queries(12):
            response = api.get("/api/v1/settlements/exports/")
        assert response.status_code == 200
    with tenant_context(personas.tenant_b):
        settlement_export_create(kind="journal", file_format="csv", month=OCTOBER, enqueue=False)
    body = api.get("/api/v1/settlements/exports/").json()
    results = body["results"] if isinstance(body, dict) else body
    assert len(results) == 6 and {r["kind"] for r in results} == {"statements"}
