"""Engine pages: plans, runs (start), run detail, statement detail; roles and isolation."""

from __future__ import annotations

from datetime import date

from partnerhub.tenancy.context import tenant_context
from settlements.models import SettlementRun, Statement
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.conftest import login
from tests.settlements.engine_helpers import assign, make_plan, usage


def test_pages_show_plans_runs_and_statement_lines(personas):
    with tenant_context(personas.tenant_a):
        plan = make_plan()
        assign(personas.a_partner, plan)
        usage(personas.a_partner, "music", "100.00")
        run = settlement_run_execute(
            run=settlement_run_start(month=date(2026, 10, 1), enqueue=False)
        )
        statement = Statement.objects.get()
    client = login(personas.a_finance)
    assert plan.name in client.get("/settlements/plans/").content.decode()
    assert "Version 1" in client.get(f"/settlements/plans/{plan.pk}/").content.decode()
    assert client.get("/settlements/runs/").status_code == 200
    assert "30.00" in client.get(f"/settlements/runs/{run.pk}/").content.decode()
    page = client.get(f"/settlements/statements/{statement.pk}/").content.decode()
    assert "30.00 EUR" in page and "Trace" in page
    response = client.post("/settlements/runs/", {"month": "2026-11"})
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        assert SettlementRun.objects.filter(month=date(2026, 11, 1)).exists()


def test_viewer_cannot_start_and_tenant_b_rows_are_missing(personas):
    with tenant_context(personas.tenant_b):
        b_run = settlement_run_start(month=date(2026, 10, 1), enqueue=False)
    viewer = login(personas.a_viewer)
    assert viewer.post("/settlements/runs/", {"month": "2026-11"}).status_code == 403
    assert login(personas.a_finance).get(f"/settlements/runs/{b_run.pk}/").status_code == 404


def test_partner_page_card_lists_the_partners_own_statements(personas):
    with tenant_context(personas.tenant_a):
        assign(personas.a_partner, make_plan())
        usage(personas.a_partner, "music", "100.00")
        settlement_run_execute(run=settlement_run_start(month=date(2026, 10, 1), enqueue=False))
        statement = Statement.objects.get()
    client = login(personas.a_manager)
    card = client.get(f"/settlements/partners/{personas.a_partner.pk}/statements/").content.decode()
    assert f"/settlements/statements/{statement.pk}/" in card and "30.00 EUR" in card
    other = client.get(f"/settlements/partners/{personas.a_other_partner.pk}/statements/")
    assert b'data-testid="partner-statements-empty"' in other.content
    # Another tenant's partner is answered like one that does not exist; partner users get none.
    assert (
        client.get(f"/settlements/partners/{personas.b_partner.pk}/statements/").status_code == 404
    )
    portal = login(personas.a_partner_user)
    assert (
        portal.get(f"/settlements/partners/{personas.a_partner.pk}/statements/").status_code == 403
    )
