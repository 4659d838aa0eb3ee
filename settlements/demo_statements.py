"""Demo statement lifecycle for `make run`: in the oldest demo month one statement is approved
and one paid (through the services, so their content hashes are right), and a manual adjustment
correcting the paid one is settled in the next month's draft.

Runs after ``settlements.demo_plans`` (the drafts first). Idempotent: a month that already has an
approved or paid statement is left alone.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from partnerhub.accounts.models import User
from partnerhub.tenancy.models import Tenant
from partners.models import Partner
from settlements.demo_usage import DEMO_TENANT_SLUG, demo_months
from settlements.models import SettlementRun, Statement
from settlements.services.runs import settlement_run_execute, settlement_run_start
from settlements.services.statements import (
    adjustment_create,
    statement_approve,
    statement_mark_paid,
)

FINANCE_EMAIL = "finance@demo.test"


def load(tenant: Tenant) -> None:
    if tenant.slug != DEMO_TENANT_SLUG:
        return
    finance = User.objects.filter(email=FINANCE_EMAIL).first()
    months = demo_months()
    if finance is None or len(months) < 2:
        return
    first, second = months[0], months[1]
    if Statement.objects.filter(month=first).exclude(status=Statement.Status.DRAFT).exists():
        return
    drafts = list(
        Statement.objects.filter(month=first, status=Statement.Status.DRAFT)
        .exclude(partner_share=0)
        .order_by("partner_id")[:2]
    )
    if len(drafts) < 2:
        return
    approved = [statement_approve(statement=s, user=finance) for s in drafts]
    paid = statement_mark_paid(
        statement=approved[1],
        user=finance,
        payment_date=second + timedelta(days=9),
        reference=f"SEPA-{first:%Y%m}-0001",
    )
    adjustment_create(
        partner=Partner.objects.get(pk=paid.partner_id),
        amount=Decimal(25),
        currency=paid.currency,
        reason="Demo: usage file of the last day arrived late",
        user=finance,
        corrects_statement=paid,
    )
    if not SettlementRun.objects.filter(month=second, status__in=["queued", "running"]).exists():
        settlement_run_execute(run=settlement_run_start(month=second, enqueue=False))
