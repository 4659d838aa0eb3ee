"""Manual adjustments: validated, settled by the run as a line of the partner's next open
statement exactly once (re-runs idempotent), linked both ways, frozen once approved."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from settlements.models import Statement, StatementAdjustment
from settlements.services.statements import (
    adjustment_create,
    adjustment_delete,
    adjustment_update,
    statement_approve,
    statement_dispute_open,
    statement_dispute_resolve,
)
from tests.settlements.engine_helpers import snapshot
from tests.settlements.statement_helpers import DEC, NOV, OCT, run, statement_world


@pytest.fixture
def approved_oct(personas, as_tenant_a):
    drafts = statement_world(personas)
    return statement_approve(statement=drafts[personas.a_partner], user=personas.a_finance)


def adjust(personas, st, amount="7.50", **kwargs):
    return adjustment_create(
        partner=personas.a_partner,
        amount=D(amount),
        currency="EUR",
        reason="Missing video usage",
        user=personas.a_finance,
        corrects_statement=st,
        **kwargs,
    )


def test_adjustment_lands_in_next_open_statement_once_and_reruns_are_idempotent(
    approved_oct, personas
):
    adj = adjust(personas, approved_oct, corrects_line=approved_oct.lines.first())
    run(NOV)
    first = snapshot(NOV)
    nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
    line = nov.lines.get(kind="adjustment")
    assert line.amount == D("7.50") and line.trace["adjustment_id"] == adj.pk
    assert line.trace["corrects_statement_id"] == approved_oct.pk
    assert nov.partner_share == D("7.50") and nov.csp_share == -D("7.50")
    adj.refresh_from_db()
    assert adj.settled_in_id == nov.pk
    assert list(approved_oct.corrections.all()) == [adj]
    run(NOV)
    assert snapshot(NOV) == first
    nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
    adj.refresh_from_db()
    assert adj.settled_in_id == nov.pk
    run(DEC)  # a later month never takes an adjustment settled in an earlier draft
    dec = Statement.objects.get(partner=personas.a_partner, month=DEC)
    assert not dec.lines.filter(kind="adjustment").exists()
    assert StatementAdjustment.objects.filter(settled_in__isnull=False).count() == 1


def test_adjustment_never_lands_in_the_month_it_corrects_or_earlier(approved_oct, personas):
    adjust(personas, approved_oct)
    run(OCT)  # October is frozen for this partner: nothing
    assert not Statement.objects.filter(lines__kind="adjustment").exists()


def test_adjustment_is_frozen_once_its_statement_is_approved(approved_oct, personas):
    adj = adjust(personas, approved_oct)
    run(NOV)
    adj = adjustment_update(adjustment=adj, user=personas.a_admin, amount=D("8.00"))
    assert adj.updated_by == personas.a_admin
    nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
    with pytest.raises(ValidationError, match="run 2026-11 again"):
        statement_approve(statement=nov, user=personas.a_finance)
    run(NOV)
    nov = statement_approve(
        statement=Statement.objects.get(partner=personas.a_partner, month=NOV),
        user=personas.a_finance,
    )
    assert nov.lines.get(kind="adjustment").amount == D("8.00")
    with pytest.raises(ValidationError, match="can no longer change"):
        adjustment_update(adjustment=adj, user=personas.a_admin, reason="other")
    with pytest.raises(ValidationError, match="can no longer change"):
        adjustment_delete(adjustment=adj)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": D("0")}, "cannot be zero"),
        ({"amount": D("1.001")}, "at most 2 decimals"),
        ({"currency": "XXX"}, "not an ISO 4217"),
        ({"currency": "USD"}, "is in EUR, not USD"),
        ({"reason": "  "}, "reason"),
    ],
)
def test_bad_adjustments_are_refused_naming_the_problem(approved_oct, personas, changes, message):
    args = {"amount": D("1"), "currency": "EUR", "reason": "r", **changes}
    with pytest.raises(ValidationError, match=message):
        adjustment_create(
            partner=personas.a_partner,
            user=personas.a_finance,
            corrects_statement=approved_oct,
            **args,
        )
    assert not StatementAdjustment.objects.exists()


def test_draft_or_other_partners_statement_cannot_be_corrected(approved_oct, personas):
    other = Statement.objects.get(partner=personas.a_other_partner, month=OCT)
    with pytest.raises(ValidationError, match="draft is corrected by running"):
        adjustment_create(
            partner=personas.a_other_partner,
            amount=D("1"),
            currency="EUR",
            reason="r",
            user=None,
            corrects_statement=other,
        )
    with pytest.raises(ValidationError, match="another partner"):
        adjustment_create(
            partner=personas.a_other_partner,
            amount=D("1"),
            currency="EUR",
            reason="r",
            user=None,
            corrects_statement=approved_oct,
        )


def test_dispute_resolution_adjustment_shows_on_next_statement(approved_oct, personas):
    line = approved_oct.lines.first()
    link = statement_dispute_open(
        statement=approved_oct,
        user=personas.a_partner_user,
        comment="Too low",
        by_partner=True,
        line=line,
    )
    statement_dispute_resolve(
        link=link, user=personas.a_finance, resolution="Credit 3 EUR", amount=D("3.00")
    )
    run(NOV)
    nov = Statement.objects.get(partner=personas.a_partner, month=NOV)
    adj_line = nov.lines.get(kind="adjustment")
    assert adj_line.amount == D("3.00")
    assert adj_line.trace["dispute_id"] == link.dispute_id
    assert adj_line.trace["corrects_line_id"] == line.pk
