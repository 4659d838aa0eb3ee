"""Statement pages: list with filters (constant queries), bulk approval with confirmation,
detail with trace, adjustments, disputes and history, actions, line usage drill-down."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from partnerhub.tenancy.context import tenant_context
from settlements.models import Statement, StatementAdjustment
from settlements.services.statements import statement_approve
from tests.conftest import login
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import assign, make_plan, usage
from tests.settlements.statement_helpers import OCT, run, two_tenant_drafts

LIST = "/settlements/statements/"


@pytest.fixture
def world(personas):
    return two_tenant_drafts(personas)


def test_list_filters_and_links_from_nav(world, personas):
    page = login(personas.a_viewer).get(LIST, {"month": "2026-10", "status": "draft"})
    html = page.content.decode()
    assert page.status_code == 200 and f"{LIST}{world['a'].pk}/" in html
    assert f"{LIST}{world['b'].pk}/" not in html and "Foreign" not in html  # tenant B
    assert 'data-testid="nav-statements"' in html
    assert "Approve drafts" not in html  # viewer cannot approve
    one = login(personas.a_viewer).get(LIST, {"partner": personas.a_partner.pk}).content.decode()
    with tenant_context(personas.tenant_a):
        other = Statement.objects.get(partner=personas.a_other_partner)
    assert f"{LIST}{world['a'].pk}/" in one and f"{LIST}{other.pk}/" not in one


def test_bulk_approve_asks_for_confirmation_then_approves_the_month(world, personas):
    client = login(personas.a_finance)
    confirm = client.get(LIST, {"month": "2026-10", "confirm": "1"}).content.decode()
    assert 'data-testid="bulk-approve-confirm"' in confirm and "<strong>2</strong>" in confirm
    with tenant_context(personas.tenant_a):
        assert Statement.objects.filter(status="approved").count() == 0
    done = client.post(LIST, {"month": "2026-10", "status": "", "partner": "", "currency": ""})
    assert done.status_code == 302
    with tenant_context(personas.tenant_a):
        assert Statement.objects.filter(month=OCT, status="approved").count() == 2
    with tenant_context(personas.tenant_b):
        assert Statement.objects.get(pk=world["b"].pk).status == "draft"
    assert login(personas.a_admin).post(LIST, {"month": "2026-10"}).status_code in (302, 403)


def test_detail_actions_and_history(world, personas):
    client = login(personas.a_finance)
    url = f"{LIST}{world['a'].pk}/"
    assert client.post(f"{url}approve/").status_code == 302
    page = client.get(url).content.decode()
    with tenant_context(personas.tenant_a):
        st = Statement.objects.get(pk=world["a"].pk)
    assert st.content_hash in page and "Approved" in page
    assert "draft → approved" in page  # audit history
    client.post(f"{url}adjustments/", {"amount": "2.50", "reason": "Late file", "line": ""})
    client.post(f"{url}mark-paid/", {"payment_date": "2026-11-20", "reference": "SEPA-9"})
    with tenant_context(personas.tenant_a):
        st.refresh_from_db()
        assert st.status == "paid" and st.payment_reference == "SEPA-9"
        adj = StatementAdjustment.objects.get()
        assert adj.corrects_statement_id == st.pk and adj.amount == D("2.50")
    page = client.get(url).content.decode()
    assert "pending: the next run settles it" in page and "SEPA-9" in page
    assert login(personas.a_finance).get(f"{LIST}{world['b'].pk}/").status_code == 404


def test_viewer_cannot_act(world, personas):
    url = f"{LIST}{world['a'].pk}/"
    assert login(personas.a_viewer).post(f"{url}approve/").status_code in (302, 403)
    with tenant_context(personas.tenant_a):
        assert Statement.objects.get(pk=world["a"].pk).status == "draft"


def test_line_usage_drill_down_is_paginated(world, personas):
    with tenant_context(personas.tenant_a):
        line = world["a"].lines.get()
    page = login(personas.a_viewer).get(f"{LIST}{world['a'].pk}/lines/{line.pk}/usage/")
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<tr>") == 3  # header + 2 records
    assert (
        login(personas.a_viewer).get(f"{LIST}{world['b'].pk}/lines/{line.pk}/usage/").status_code
        == 404
    )


def test_list_page_query_count_is_constant(personas, django_assert_max_num_queries):
    client = login(personas.a_viewer)

    def grow(n):
        with tenant_context(personas.tenant_a):
            plan = make_plan()
            for _ in range(n):
                partner = PartnerFactory()
                assign(partner, plan)
                usage(partner, "music", "10.00")
            run(OCT)
            first = Statement.objects.order_by("pk").first()
            if first.status == "draft":
                statement_approve(statement=first, user=personas.a_finance)

    grow(2)
    with django_assert_max_num_queries(40) as few:
        client.get(LIST, {"month": "2026-10"})
    grow(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(LIST, {"month": "2026-10"})
    assert page.content.decode().count("/settlements/statements/") >= 8


def test_staff_record_and_resolve_a_dispute_from_the_statement_page(world, personas):
    with tenant_context(personas.tenant_a):
        st = statement_approve(statement=world["a"], user=personas.a_finance)
        line = st.lines.get()
    client = login(personas.a_finance)
    url = f"{LIST}{st.pk}/"
    client.post(f"{url}disputes/", {"comment": "Partner called: video short", "line": line.pk})
    page = client.get(url).content.decode()
    assert 'data-testid="resolve-form"' in page and "Disputed" in page
    with tenant_context(personas.tenant_a):
        link = st.disputes.get()
    client.post(f"{url}disputes/{link.pk}/resolve/", {"resolution": "Credit", "amount": "1.10"})
    with tenant_context(personas.tenant_a):
        st.refresh_from_db()
        assert st.status == "approved"
        adj = StatementAdjustment.objects.get()
        assert (adj.amount, adj.corrects_line_id, adj.dispute_id) == (
            D("1.10"),
            line.pk,
            link.dispute_id,
        )
    bad = client.post(f"{url}adjustments/", {"amount": "1.001", "reason": "x"}, follow=True)
    assert "at most 2 decimals" in bad.content.decode()
