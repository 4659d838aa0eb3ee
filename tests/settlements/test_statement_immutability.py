"""An approved (disputed, paid) statement and its lines are immutable in the database: the ORM,
a queryset update and raw SQL are all refused by the trigger; drafts stay replaceable."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction

from settlements.models import Statement, StatementLine
from settlements.services.statements import (
    statement_approve,
    statement_content_hash,
    statement_mark_paid,
)
from tests.settlements.engine_helpers import usage
from tests.settlements.statement_helpers import OCT, run, statement_world, two_tenant_drafts


@pytest.fixture
def approved(personas, as_tenant_a):
    statements = statement_world(personas)
    return statement_approve(statement=statements[personas.a_partner], user=personas.a_finance)


def refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_approved_statement_cannot_be_saved_with_new_content(approved):
    approved.partner_share = D("1.00")
    refused(approved.save)
    refused(lambda: Statement.objects.filter(pk=approved.pk).update(partner_share=D("1.00")))
    refused(lambda: Statement.objects.filter(pk=approved.pk).update(status="draft"))
    refused(lambda: Statement.objects.filter(pk=approved.pk).delete())
    approved.refresh_from_db()
    assert approved.partner_share == D("45.00")


def test_raw_sql_update_and_delete_of_approved_statement_fail(approved):
    def sql(text):
        with connection.cursor() as cursor:
            cursor.execute(text, [approved.pk])

    refused(lambda: sql("UPDATE settlements_statement SET csp_share = 0 WHERE id = %s"))
    refused(lambda: sql("UPDATE settlements_statement SET content_hash = 'x' WHERE id = %s"))
    refused(lambda: sql("DELETE FROM settlements_statement WHERE id = %s"))
    refused(lambda: sql("UPDATE settlements_statementline SET amount = 0 WHERE statement_id = %s"))
    refused(lambda: sql("DELETE FROM settlements_statementline WHERE statement_id = %s"))
    refused(
        lambda: sql(
            "INSERT INTO settlements_statementline (tenant_id, statement_id, position, kind,"
            " product_code, description, basis_amount, quantity, record_count, amount, trace)"
            " SELECT tenant_id, id, 99, 'rule', '', 'x', 0, 0, 0, 1, '{}'"
            " FROM settlements_statement WHERE id = %s"
        )
    )


def test_lines_of_approved_statement_cannot_change_by_orm_or_update(approved):
    line = approved.lines.first()
    line.amount = D("0.01")
    refused(line.save)
    refused(lambda: StatementLine.objects.filter(statement=approved).update(amount=0))
    refused(lambda: StatementLine.objects.filter(statement=approved).delete())


def test_paid_statement_payment_details_are_recorded_once(approved, personas):
    paid = statement_mark_paid(
        statement=approved, user=personas.a_finance, payment_date=OCT, reference="PAY-1"
    )
    refused(lambda: Statement.objects.filter(pk=paid.pk).update(payment_reference="PAY-2"))
    refused(lambda: Statement.objects.filter(pk=paid.pk).update(status="approved"))


def test_hash_is_stored_and_stable(approved):
    approved.refresh_from_db()
    lines = list(approved.lines.all())
    assert len(approved.content_hash) == 64
    assert statement_content_hash(approved, lines) == approved.content_hash


def test_rerun_replaces_drafts_and_never_touches_approved(approved, personas):
    other = Statement.objects.get(partner=personas.a_other_partner, month=OCT)
    before = (approved.partner_share, approved.content_hash, list(approved.lines.values("id")))
    usage(personas.a_partner, "music", "10.00")
    usage(personas.a_other_partner, "music", "10.00")
    run(OCT)
    approved.refresh_from_db()
    assert (approved.partner_share, approved.content_hash, list(approved.lines.values("id"))) == (
        before
    )
    replaced = Statement.objects.get(partner=personas.a_other_partner, month=OCT)
    assert replaced.pk != other.pk and replaced.partner_share == D("48.00")


def test_references_of_drafts_and_lines_are_checked_by_the_composite_keys(personas, as_tenant_a):
    """Statements and lines keep only the (tenant_id, <fk>) keys (migration 0007): a missing row
    and another tenant's row are still refused, for each reference a run writes."""
    drafts = two_tenant_drafts(personas)
    mine, theirs = drafts["a"], drafts["b"]

    def sql(text, *params):
        with connection.cursor() as cursor:
            cursor.execute(text, params)

    sql("SET CONSTRAINTS ALL IMMEDIATE")  # checked now, not at the commit a test never makes
    for column, foreign in [
        ("partner_id", theirs.partner_id),
        ("plan_version_id", theirs.plan_version_id),
        ("run_id", theirs.run_id),
    ]:
        for value in (foreign, -1):
            refused(
                lambda c=column, v=value: sql(
                    f"UPDATE settlements_statement SET {c} = %s WHERE id = %s", v, mine.pk
                )
            )
    for value in (theirs.pk, -1):
        refused(
            lambda v=value: sql(
                "UPDATE settlements_statementline SET statement_id = %s WHERE statement_id = %s",
                v,
                mine.pk,
            )
        )
    sql("UPDATE settlements_statement SET partner_id = partner_id WHERE id = %s", mine.pk)
