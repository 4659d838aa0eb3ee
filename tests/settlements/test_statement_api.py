"""Statements and adjustments API: permissions as the pages, lifecycle actions, bulk approval of
a month, filters, another tenant's ids answer 404, constant query counts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from partnerhub.tenancy.context import tenant_context
from settlements.models import Statement, StatementAdjustment
from settlements.services.statements import statement_approve
from tests.conftest import bearer
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import assign, make_plan, usage
from tests.settlements.statement_helpers import NOV, OCT, run, two_tenant_drafts

BASE = "/api/v1/settlements/statements/"
ADJ = "/api/v1/settlements/adjustments/"


@pytest.fixture
def world(personas):
    return two_tenant_drafts(personas)


def test_list_filters_and_retrieve_with_lines(world, personas):
    api = bearer(personas.a_viewer, personas.tenant_a)
    rows = api.get(BASE, {"month": "2026-10", "status": "draft"}).json()["results"]
    assert {r["partner"] for r in rows} == {personas.a_partner.pk, personas.a_other_partner.pk}
    assert api.get(BASE, {"partner": personas.a_partner.pk}).json()["count"] == 1
    assert api.get(BASE, {"currency": "USD"}).json()["count"] == 0
    bad = api.get(BASE, {"month": "October"})
    assert bad.status_code == 400 and "use YYYY-MM" in str(bad.json())
    one = api.get(f"{BASE}{world['a'].pk}/").json()
    assert one["lines"][0]["kind"] == "rule" and one["status"] == "draft"


def test_other_tenants_ids_are_404(world, personas):
    api = bearer(personas.a_finance, personas.tenant_a)
    b = world["b"].pk
    assert api.get(f"{BASE}{b}/").status_code == 404
    assert api.post(f"{BASE}{b}/approve/").status_code == 404
    assert api.post(f"{BASE}{b}/mark-paid/", {"payment_date": "2026-11-01"}).status_code == 404
    with tenant_context(personas.tenant_b):
        assert Statement.objects.get(pk=b).status == "draft"
    created = api.post(
        ADJ,
        {"partner": personas.b_partner.pk, "amount": "1", "currency": "EUR", "reason": "x"},
        content_type="application/json",
    )
    assert created.status_code == 400 and "partner" in created.json()["error"]["details"]


def test_only_finance_approves_and_pays(world, personas):
    url = f"{BASE}{world['a'].pk}/approve/"
    for user in (personas.a_viewer, personas.a_manager, personas.a_admin):
        assert bearer(user, personas.tenant_a).post(url).status_code == 403
    api = bearer(personas.a_finance, personas.tenant_a)
    body = api.post(url).json()
    assert body["status"] == "approved" and len(body["content_hash"]) == 64
    assert body["approved_by"] == personas.a_finance.email
    again = api.post(url)
    assert again.status_code == 400 and "only a draft" in str(again.json())
    paid = api.post(
        f"{BASE}{world['a'].pk}/mark-paid/",
        {"payment_date": "2026-11-20", "payment_reference": "SEPA-1"},
        content_type="application/json",
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_dispute_action_and_approve_month(world, personas):
    api = bearer(personas.a_finance, personas.tenant_a)
    result = api.post(
        f"{BASE}approve-month/", {"month": "2026-10"}, content_type="application/json"
    )
    assert result.status_code == 200
    assert len(result.json()["approved"]) == 2 and result.json()["refused"] == []
    line = api.get(f"{BASE}{world['a'].pk}/").json()["lines"][0]["id"]
    disputed = api.post(
        f"{BASE}{world['a'].pk}/dispute/",
        {"comment": "Too low", "line": line},
        content_type="application/json",
    )
    assert disputed.status_code == 201
    assert disputed.json()["statement"]["status"] == "disputed"
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    assert viewer.post(f"{BASE}{world['a'].pk}/dispute/", {"comment": "x"}).status_code == 403


def test_adjustment_crud_within_the_rules(world, personas):
    with tenant_context(personas.tenant_a):
        approved = statement_approve(statement=world["a"], user=personas.a_finance)
    api = bearer(personas.a_finance, personas.tenant_a)
    body = {
        "partner": personas.a_partner.pk,
        "amount": "7.50",
        "currency": "EUR",
        "reason": "Missing usage",
        "corrects_statement": approved.pk,
    }
    assert bearer(personas.a_viewer, personas.tenant_a).post(ADJ, body).status_code == 403
    created = api.post(ADJ, body, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    bad = api.post(ADJ, {**body, "amount": "0"}, content_type="application/json")
    assert bad.status_code == 400 and "zero" in str(bad.json())
    patched = api.patch(f"{ADJ}{pk}/", {"amount": "8.00"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["amount"] == "8.0000"
    with tenant_context(personas.tenant_a):
        run(NOV)
        nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
        statement_approve(statement=nov, user=personas.a_finance)
    frozen = api.patch(f"{ADJ}{pk}/", {"reason": "y"}, content_type="application/json")
    assert frozen.status_code == 400 and "can no longer change" in str(frozen.json())
    assert api.delete(f"{ADJ}{pk}/").status_code == 400
    assert api.get(ADJ, {"settled": "true"}).json()["count"] == 1
    with tenant_context(personas.tenant_a):
        assert StatementAdjustment.objects.get(pk=pk).settled_in_id == nov.pk


def test_list_query_count_is_constant(personas, django_assert_max_num_queries):
    api = bearer(personas.a_viewer, personas.tenant_a)

    def grow(n):
        with tenant_context(personas.tenant_a):
            plan = make_plan()
            for _ in range(n):
                partner = PartnerFactory()
                assign(partner, plan)
                usage(partner, "music", "10.00")
            run(OCT)

    grow(2)
    with django_assert_max_num_queries(30) as few:
        api.get(BASE, {"month": "2026-10"})
        api.get(ADJ)
    grow(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        many = api.get(BASE, {"month": "2026-10"})
        api.get(ADJ)
    assert many.json()["count"] == 8
    assert D(many.json()["results"][0]["partner_share"]) == D("3.00")
