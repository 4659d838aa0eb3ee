"""Reconciliation page, export and API: figures, roles, isolation, a month without a run, bad
input, hostile text in the export, the OpenAPI schema, a constant number of queries."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from partnerhub.tenancy.context import tenant_context
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.conftest import bearer, login
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import assign, make_plan, usage

OCT = date(2026, 10, 1)


def settle_october(personas):
    with tenant_context(personas.tenant_a):
        assign(personas.a_partner, make_plan())
        usage(personas.a_partner, "music", "100.00")
        usage(personas.a_other_partner, "video", "25.00")  # no agreement
        settlement_run_execute(run=settlement_run_start(month=OCT, enqueue=False))
    with tenant_context(personas.tenant_b):
        assign(personas.b_partner, make_plan())
        usage(personas.b_partner, "music", "999.00")
        usage(PartnerFactory(legal_name="Bravo secret partner"), "music", "5.00")
        settlement_run_execute(run=settlement_run_start(month=OCT, enqueue=False))


def test_page_shows_the_month_balanced_with_its_unsettled_usage(personas):
    settle_october(personas)
    for user in (personas.a_finance, personas.a_manager, personas.a_admin):
        response = login(user).get("/settlements/reconciliation/?month=2026-10")
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-testid="balanced"' in page
        assert "No active agreement" in page and "25.00 EUR" in page
        assert "100.00 EUR" in page
        assert "999.00" not in page and "Bravo secret partner" not in page


def test_a_month_without_a_run_says_so(personas):
    page = login(personas.a_finance).get("/settlements/reconciliation/?month=2026-05")
    assert b'data-testid="no-run"' in page.content


def test_bad_month_is_a_clear_error(personas):
    client = login(personas.a_finance)
    response = client.get("/settlements/reconciliation/?month=2026-13")
    assert response.status_code == 400 and b"is not a period" in response.content
    assert client.get("/settlements/reconciliation/?month=2026-Q4").status_code == 400
    assert (
        client.get("/settlements/reconciliation/?month=2026-10&file_format=pdf").status_code == 400
    )
    api = bearer(personas.a_finance, personas.tenant_a)
    response = api.get("/api/v1/settlements/reconciliation/?month=oct")
    assert response.status_code == 400
    assert "is not a period" in response.json()["error"]["details"]["month"][0]


def test_partner_users_are_refused(personas):
    portal = login(personas.a_partner_user)
    assert portal.get("/settlements/reconciliation/?month=2026-10").status_code in (302, 403, 404)
    assert portal.get("/settlements/finance/").status_code in (302, 403, 404)
    api = bearer(personas.a_partner_user, personas.tenant_a)
    assert api.get("/api/v1/settlements/reconciliation/?month=2026-10").status_code in (403, 404)


def test_api_returns_the_same_figures_scoped_to_the_tenant(personas):
    settle_october(personas)
    body = (
        bearer(personas.a_finance, personas.tenant_a)
        .get("/api/v1/settlements/reconciliation/?month=2026-10")
        .json()
    )
    assert body["has_run"] is True and body["is_balanced"] is True
    [eur] = body["usage"]
    assert eur["currency"] == "EUR" and eur["basis"] == "125.000000"
    assert eur["settled"] == "100.000000"
    assert eur["unsettled"] == {"no_active_agreement": "25.000000"}
    assert eur["difference"] == "0.000000"
    assert [g["partner_id"] for g in body["unsettled"]] == [personas.a_other_partner.pk]
    [st] = body["statements"]
    assert (st["basis_total"], st["partner_share_payable"]) == ("100.000000", "30.000000")
    # Tenant B sees only its own month.
    other = (
        bearer(personas.b_manager, personas.tenant_b)
        .get("/api/v1/settlements/reconciliation/?month=2026-10")
        .json()
    )
    assert [u["basis"] for u in other["usage"]] == ["1004.000000"]
    assert personas.a_other_partner.pk not in [g["partner_id"] for g in other["unsettled"]]
    empty = (
        bearer(personas.a_finance, personas.tenant_a)
        .get("/api/v1/settlements/reconciliation/?month=2026-04")
        .json()
    )
    assert empty["has_run"] is False and empty["run"] is None and empty["usage"] == []


def test_export_csv_and_xlsx_have_the_figures_and_escape_hostile_text(personas):
    settle_october(personas)
    with tenant_context(personas.tenant_a):
        personas.a_other_partner.legal_name = '=HYPERLINK("http://evil")'
        personas.a_other_partner.trading_name = ""
        personas.a_other_partner.save()
    client = login(personas.a_finance)
    csv_text = b"".join(
        client.get("/settlements/reconciliation/?month=2026-10&file_format=csv").streaming_content
    ).decode("utf-8-sig")
    assert csv_text.splitlines()[0] == (
        "section,currency,measure,amount,records,partner_id,partner,product_code"
    )
    assert "usage,EUR,difference,0.00," in csv_text
    assert "'=HYPERLINK" in csv_text
    response = client.get("/settlements/reconciliation/?month=2026-10&file_format=xlsx")
    assert response["Content-Disposition"].endswith('reconciliation-2026-10.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    settled = next(r for r in rows if r[0] == "usage" and r[2] == "settled_basis")
    assert settled[3] == 100  # a number, not text
    unsettled = next(r for r in rows if r[0] == "unsettled")
    assert unsettled[2] == "no_active_agreement" and unsettled[6].startswith("'=")


def test_page_and_api_run_a_constant_number_of_queries(personas, django_assert_max_num_queries):
    settle_october(personas)
    with tenant_context(personas.tenant_a):
        for i in range(4):
            p = PartnerFactory()
            assign(p, make_plan())
            usage(p, f"p{i}", "2.00", currency="USD")
            usage(PartnerFactory(), "music", "1.00")
        settlement_run_execute(run=settlement_run_start(month=OCT, enqueue=False))
    client = login(personas.a_finance)
    api = bearer(personas.a_finance, personas.tenant_a)
    with django_assert_max_num_queries(20):
        assert client.get("/settlements/reconciliation/?month=2026-10").status_code == 200
    with django_assert_max_num_queries(20):
        assert api.get("/api/v1/settlements/reconciliation/?month=2026-10").status_code == 200


def test_reconciliation_is_in_the_openapi_schema(personas):
    schema = login(personas.a_admin).get("/api/schema/").content.decode()
    assert "/api/v1/settlements/reconciliation/" in schema
    assert "October 2026" in schema
