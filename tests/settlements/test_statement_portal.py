"""The portal: a partner user sees its own approved, disputed and paid statements only (drafts
and another partner's answer 404), the usage behind a line, and raises disputes whose
resolution becomes an adjustment on the next statement."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerhub.tenancy.context import tenant_context
from partners.models import Dispute
from settlements.models import Statement, StatementDispute
from settlements.services.statements import statement_approve, statement_dispute_resolve
from tests.conftest import login
from tests.settlements.statement_helpers import NOV, run, statement_world

PORTAL = "/portal/statements/"


@pytest.fixture
def world(personas):
    with tenant_context(personas.tenant_a):
        drafts = statement_world(personas)
        mine = statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)
        other = statement_approve(
            statement=drafts[personas.a_other_partner], user=personas.a_finance
        )
        run(NOV)  # November: drafts
        nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
    return {"mine": mine, "other": other, "draft": nov}


def test_partner_sees_only_its_own_non_draft_statements(world, personas):
    client = login(personas.a_partner_user)
    html = client.get(PORTAL).content.decode()
    assert f"{PORTAL}{world['mine'].pk}/" in html
    assert f"{PORTAL}{world['draft'].pk}/" not in html
    assert f"{PORTAL}{world['other'].pk}/" not in html
    assert client.get(f"{PORTAL}{world['draft'].pk}/").status_code == 404
    assert client.get(f"{PORTAL}{world['other'].pk}/").status_code == 404
    detail = client.get(f"{PORTAL}{world['mine'].pk}/").content.decode()
    assert world["mine"].content_hash in detail and 'data-testid="portal-line-table"' in detail


def test_staff_cannot_use_portal_pages_and_partner_cannot_use_staff_pages(world, personas):
    assert login(personas.a_finance).get(PORTAL).status_code in (302, 403, 404)
    staff = f"/settlements/statements/{world['mine'].pk}/"
    assert login(personas.a_partner_user).get(staff).status_code in (302, 403)


def test_partner_sees_usage_behind_a_line_but_not_of_others(world, personas):
    with tenant_context(personas.tenant_a):
        line = world["mine"].lines.get()
        other_line = world["other"].lines.get()
    client = login(personas.a_partner_user)
    page = client.get(f"{PORTAL}{world['mine'].pk}/lines/{line.pk}/usage/")
    assert page.status_code == 200 and 'data-testid="usage-table"' in page.content.decode()
    assert client.get(f"{PORTAL}{world['mine'].pk}/lines/{other_line.pk}/usage/").status_code == 404
    assert (
        client.get(f"{PORTAL}{world['other'].pk}/lines/{other_line.pk}/usage/").status_code == 404
    )


def test_partner_disputes_a_line_and_resolution_adjusts_next_statement(world, personas):
    with tenant_context(personas.tenant_a):
        line = world["mine"].lines.get()
    client = login(personas.a_partner_user)
    upload = SimpleUploadedFile("proof.csv", b"day,amount\n2026-10-30,10\n", "text/csv")
    sent = client.post(
        f"{PORTAL}{world['mine'].pk}/",
        {"comment": "Video of 30 Oct missing", "line": str(line.pk), "attachment": upload},
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    with tenant_context(personas.tenant_a):
        link = StatementDispute.objects.get()
        assert link.line == line and link.dispute.category == Dispute.Category.SETTLEMENT
        assert link.dispute.raised_by_partner
        assert link.dispute.comments.get().attachment is not None
        assert Statement.objects.get(pk=world["mine"].pk).status == "disputed"
        statement_dispute_resolve(
            link=link, user=personas.a_finance, resolution="Credited", amount=D("4.20")
        )
        assert Statement.objects.get(pk=world["mine"].pk).status == "approved"
        run(NOV)
        nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
        assert nov.lines.get(kind="adjustment").amount == D("4.20")
        statement_approve(statement=nov, user=personas.a_finance)
    html = client.get(f"{PORTAL}{nov.pk}/").content.decode()
    assert "Adjustment: Dispute #" in html and "4.20 EUR" in html


def test_dispute_on_other_partners_statement_is_404(world, personas):
    client = login(personas.a_partner_user)
    assert client.post(f"{PORTAL}{world['other'].pk}/", {"comment": "x"}).status_code == 404
    assert client.post(f"{PORTAL}{world['draft'].pk}/", {"comment": "x"}).status_code == 404
    with tenant_context(personas.tenant_a):
        assert not StatementDispute.objects.exists()


def test_portal_list_query_count_is_constant(world, personas, django_assert_max_num_queries):
    client = login(personas.a_partner_user)
    with django_assert_max_num_queries(30) as few:
        client.get(PORTAL)
    with tenant_context(personas.tenant_a):
        statement_approve(statement=world["draft"], user=personas.a_finance)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(PORTAL).status_code == 200
