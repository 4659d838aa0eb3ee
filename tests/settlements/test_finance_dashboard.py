"""The finance dashboard: statements by status, payable/receivable, oldest unpaid, open
settlement disputes, unsettled usage; roles, isolation, a constant number of queries."""

from __future__ import annotations

from datetime import date

from partnerhub.tenancy.context import tenant_context
from partners.models import Dispute
from settlements.models import Statement
from settlements.selectors.finance import finance_dashboard
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.conftest import login
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import PCT30, assign, make_plan, usage

TODAY = date(2026, 11, 20)
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def settle(month):
    return settlement_run_execute(run=settlement_run_start(month=month, enqueue=False))


def build(personas, partners=2):
    made = []
    for i in range(partners):
        p = PartnerFactory()
        assign(p, make_plan({**PCT30, "direction": "receivable" if i % 2 else "payable"}))
        usage(p, "music", "100.00")
        usage(p, "music", "50.00", when="2026-11-10T10:00:00+00:00")
        made.append(p)
    usage(personas.a_other_partner, "tv", "9.00")  # no agreement: unsettled
    settle(OCT)
    settle(NOV)
    Statement.objects.filter(month=OCT).update(status="approved")
    for p in made:
        Dispute.objects.create(
            partner=p, category=Dispute.Category.SETTLEMENT, title=f"Share of {p}", description="x"
        )
    Dispute.objects.create(
        partner=made[0], category=Dispute.Category.BILLING, title="Invoice", description="x"
    )
    return made


def test_dashboard_figures(personas, as_tenant_a):
    made = build(personas)
    d = finance_dashboard(today=TODAY)
    assert (d.open_month, d.last_month) == (NOV, OCT)
    statuses = {(r.month, r.status): r.count for r in d.by_status}
    assert statuses == {(OCT, "approved"): 2, (NOV, "draft"): 2}
    outstanding = {(o.direction, o.currency): o.amount for o in d.outstanding}
    assert outstanding == {("payable", "EUR"): 30, ("receivable", "EUR"): 30}
    assert [s.partner_id for s in d.oldest_unpaid] == sorted(p.pk for p in made)
    assert d.open_dispute_count == 2 and {x.title for x in d.open_disputes} == {
        f"Share of {p}" for p in made
    }
    assert [(u.month, u.reason, u.basis) for u in d.unsettled] == [(OCT, "no_active_agreement", 9)]


def test_dashboard_page_for_finance_roles_and_tenant_isolation(personas):
    with tenant_context(personas.tenant_a):
        build(personas)
    with tenant_context(personas.tenant_b):
        p = PartnerFactory(legal_name="Bravo hidden")
        Dispute.objects.create(
            partner=p, category=Dispute.Category.SETTLEMENT, title="Bravo dispute", description="x"
        )
    for user in (personas.a_finance, personas.a_manager, personas.a_admin):
        response = login(user).get("/settlements/finance/")
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-testid="outstanding-table"' in page
        assert "Bravo" not in page
    home = login(personas.a_finance).get("/").content.decode()
    assert 'data-testid="card-finance-dashboard"' in home and "/settlements/finance/" in home
    assert "card-finance-dashboard" not in login(personas.a_manager).get("/").content.decode()


def test_dashboard_runs_a_constant_number_of_queries(personas, django_assert_max_num_queries):
    with tenant_context(personas.tenant_a):
        build(personas, partners=2)
    client = login(personas.a_finance)
    client.get("/settlements/finance/")
    with django_assert_max_num_queries(14) as small:
        client.get("/settlements/finance/")
    with tenant_context(personas.tenant_a):
        build(personas, partners=6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/settlements/finance/")
