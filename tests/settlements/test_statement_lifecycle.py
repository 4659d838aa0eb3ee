"""draft → approved → paid, approved ⇄ disputed; finance only; four eyes; audit trail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from partnerhub.audit.models import AuditEntry
from partnerhub.tenancy.context import tenant_context
from partners.models import Dispute, DisputeStatus
from partners.services.relationship import dispute_transition
from settlements.models import Statement
from settlements.services.statements import (
    adjustment_create,
    settlement_policy,
    settlement_policy_set,
    statement_approve,
    statement_dispute_open,
    statement_dispute_resolve,
    statement_mark_paid,
    statements_approve,
)
from tests.conftest import Personas, login
from tests.settlements.statement_helpers import NOV, OCT, run, statement_world


@pytest.fixture
def drafts(personas, as_tenant_a):
    return statement_world(personas)


def test_approve_then_pay_records_who_when_and_reference(drafts, personas):
    st = statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)
    assert st.status == "approved" and st.approved_by == personas.a_finance and st.approved_at
    paid = statement_mark_paid(
        statement=st, user=personas.a_finance, payment_date=date(2026, 11, 20), reference="SEPA-7"
    )
    paid.refresh_from_db()
    assert (paid.status, paid.payment_reference, paid.payment_date) == (
        "paid",
        "SEPA-7",
        date(2026, 11, 20),
    )
    assert paid.paid_by == personas.a_finance and paid.paid_at


def test_illegal_transitions_are_refused_with_a_clear_error(drafts, personas):
    draft = drafts[personas.a_partner]
    with pytest.raises(ValidationError, match="only a approved statement can be marked paid"):
        statement_mark_paid(
            statement=draft, user=personas.a_finance, payment_date=OCT, reference="X"
        )
    with pytest.raises(ValidationError, match="disputed"):
        statement_dispute_open(
            statement=draft, user=personas.a_finance, comment="no", by_partner=False
        )
    st = statement_approve(statement=draft, user=personas.a_finance)
    with pytest.raises(ValidationError, match="is approved: only a draft"):
        statement_approve(statement=st, user=personas.a_finance)
    with pytest.raises(ValidationError, match="payment reference"):
        statement_mark_paid(statement=st, user=personas.a_finance, payment_date=OCT, reference=" ")


def test_transitions_are_in_the_audit_trail(drafts, personas):
    st = statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)
    statement_mark_paid(statement=st, user=personas.a_finance, payment_date=OCT, reference="R1")
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Statement), object_pk=str(st.pk)
    ).order_by("timestamp", "id")
    statuses = [e.changes.get("status") for e in entries if "status" in e.changes]
    assert statuses == [["draft", "approved"], ["approved", "paid"]]


def test_four_eyes_refuses_the_last_editor_of_an_adjustment(drafts, personas):
    st = statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)
    adjustment_create(
        partner=personas.a_partner,
        amount=D("5.00"),
        currency="EUR",
        reason="Goodwill",
        user=personas.a_finance,
        corrects_statement=st,
    )
    run(NOV)
    nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
    settlement_policy_set(four_eyes_approval=True)
    with pytest.raises(ValidationError, match="Four-eyes"):
        statement_approve(statement=nov, user=personas.a_finance)
    assert statement_approve(statement=nov, user=personas.a_admin).status == "approved"


def test_four_eyes_off_lets_the_editor_approve(drafts, personas):
    adjustment_create(
        partner=personas.a_partner,
        amount=D("5"),
        currency="EUR",
        reason="x",
        user=personas.a_finance,
    )
    run(OCT)
    st = Statement.objects.get(partner=personas.a_partner, month=OCT)
    assert statement_approve(statement=st, user=personas.a_finance).status == "approved"


def test_bulk_approve_reports_refusals_and_approves_the_rest(drafts, personas):
    settlement_policy_set(four_eyes_approval=True)
    adjustment_create(
        partner=personas.a_partner,
        amount=D("1"),
        currency="EUR",
        reason="x",
        user=personas.a_finance,
    )
    run(OCT)
    result = statements_approve(
        statements=Statement.objects.filter(month=OCT), user=personas.a_finance
    )
    assert [s.partner_id for s in result.approved] == [personas.a_other_partner.pk]
    assert len(result.refused) == 1 and "Four-eyes" in result.refused[0][1]


def test_dispute_makes_statement_disputed_and_resolution_reapproves(drafts, personas):
    st = statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)
    link = statement_dispute_open(
        statement=st, user=personas.a_partner_user, comment="Video is wrong", by_partner=True
    )
    st.refresh_from_db()
    assert st.status == "disputed"
    assert link.dispute.category == Dispute.Category.SETTLEMENT
    with pytest.raises(ValidationError, match="only a approved statement can be marked paid"):
        statement_mark_paid(statement=st, user=personas.a_finance, payment_date=OCT, reference="R")
    adjustment = statement_dispute_resolve(
        link=link, user=personas.a_finance, resolution="Agreed", amount=D("-2.50")
    )
    st.refresh_from_db()
    assert st.status == "approved"
    assert adjustment.corrects_statement == st and adjustment.dispute_id == link.dispute_id
    link.dispute.refresh_from_db()
    assert link.dispute.status == DisputeStatus.RESOLVED


def test_closing_the_dispute_in_the_partners_app_reapproves_the_statement(drafts, personas):
    st = statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)
    link = statement_dispute_open(
        statement=st, user=personas.a_manager, comment="check", by_partner=False
    )
    dispute = dispute_transition(
        dispute=link.dispute, to_status=DisputeStatus.INVESTIGATING, actor=personas.a_manager
    )
    dispute_transition(
        dispute=dispute, to_status="rejected", actor=personas.a_manager, resolution="Correct"
    )
    st.refresh_from_db()
    assert st.status == "approved"


def test_tenant_admins_set_the_four_eyes_policy_on_its_page(personas: Personas) -> None:
    admin = login(personas.a_admin)
    assert b"approval-policy-link" in admin.get("/settlements/statements/").content
    policy_url = "/settlements/statements/policy/"
    assert admin.post(policy_url, {"four_eyes_approval": "on"}).status_code == 302
    with tenant_context(personas.tenant_a):
        assert settlement_policy().four_eyes_approval is True
    assert admin.post(policy_url, {}).status_code == 302
    with tenant_context(personas.tenant_a):
        assert settlement_policy().four_eyes_approval is False
    # Finance approves but may not relax its own control; other tenants' policies are untouched.
    finance = login(personas.a_finance)
    assert finance.post(policy_url, {"four_eyes_approval": ""}).status_code == 403
    assert b"approval-policy-link" not in finance.get("/settlements/statements/").content
    with tenant_context(personas.tenant_b):
        assert settlement_policy().four_eyes_approval is False
