"""Plans, runs and statements over the API: validation by JSON path, versions, roles, isolation,
constant query counts."""

from __future__ import annotations

from datetime import date

import pytest

from partnerhub.tenancy.context import tenant_context
from settlements.models import RevenueSharePlanVersion, SettlementRun
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.conftest import bearer
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import PCT30, assign, make_plan, usage

PLANS = "/api/v1/settlements/plans/"


@pytest.fixture
def api(personas):
    return bearer(personas.a_finance, personas.tenant_a)


def test_plan_create_then_new_version_keeps_the_old_one(api, personas):
    response = api.post(PLANS, {"content": PCT30}, content_type="application/json")
    assert response.status_code == 201, response.json()
    plan = response.json()
    assert [v["number"] for v in plan["versions"]] == [1]
    changed = {**PCT30, "rules": [{"product": "*", "type": "percentage", "rate": "0.35"}]}
    response = api.post(
        f"{PLANS}{plan['id']}/versions/", {"content": changed}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["number"] == 2
    with tenant_context(personas.tenant_a):
        v1 = RevenueSharePlanVersion.objects.get(plan_id=plan["id"], number=1)
        assert v1.content["rules"][0]["rate"] == "0.30"


def test_plan_floats_and_bad_tiers_are_refused_naming_the_path(api):
    bad = {**PCT30, "rules": [{"product": "*", "type": "percentage", "rate": 0.3}]}
    response = api.post(PLANS, {"content": bad}, content_type="application/json")
    assert response.status_code == 400
    assert "rules[0].rate" in response.content.decode()


def test_viewer_cannot_create_and_tenant_b_plans_are_missing(personas, api):
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    assert (
        viewer.post(PLANS, {"content": PCT30}, content_type="application/json").status_code == 403
    )
    with tenant_context(personas.tenant_b):
        b_plan = make_plan()
    assert api.get(f"{PLANS}{b_plan.pk}/").status_code == 404
    assert (
        api.post(
            f"{PLANS}{b_plan.pk}/versions/", {"content": PCT30}, content_type="application/json"
        ).status_code
        == 404
    )


def test_run_start_and_one_at_a_time(api, personas):
    with tenant_context(personas.tenant_a):
        assign(personas.a_partner, make_plan())
    response = api.post(
        "/api/v1/settlements/runs/", {"month": "2026-10"}, content_type="application/json"
    )
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    again = api.post(
        "/api/v1/settlements/runs/", {"month": "2026-10"}, content_type="application/json"
    )
    assert again.status_code == 400
    assert "already in progress" in again.content.decode()
    bad = api.post(
        "/api/v1/settlements/runs/", {"month": "October"}, content_type="application/json"
    )
    assert bad.status_code == 400


def test_statement_list_runs_constant_queries(api, personas, django_assert_max_num_queries):
    def grow(n):
        with tenant_context(personas.tenant_a):
            plan = make_plan()
            for _ in range(n):
                p = PartnerFactory()
                assign(p, plan)
                usage(p, "music", "10.00")
            SettlementRun.objects.filter(month=date(2026, 10, 1)).delete()
            settlement_run_execute(run=settlement_run_start(month=date(2026, 10, 1), enqueue=False))

    grow(2)
    with django_assert_max_num_queries(16):
        first = api.get("/api/v1/settlements/statements/?month=2026-10-01")
    grow(6)
    with django_assert_max_num_queries(16):
        second = api.get("/api/v1/settlements/statements/?month=2026-10-01")
    assert first.status_code == second.status_code == 200
    body = second.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert len(rows) == 8
    assert rows[0]["lines"][0]["trace"]["rule"]["type"] == "percentage"
