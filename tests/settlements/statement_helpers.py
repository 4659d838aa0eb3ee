"""Shared set-up for statement lifecycle tests: a partner with a plan, October usage and its
draft statement computed by a real settlement run."""

from __future__ import annotations

from datetime import date

from partnerhub.tenancy.context import tenant_context
from settlements.models import Statement
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.settlements.engine_helpers import PCT30, assign, make_plan, usage

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


def run(month: date = OCT) -> None:
    settlement_run_execute(run=settlement_run_start(month=month, enqueue=False))


def statement_world(personas, *, partners=None) -> dict[object, Statement]:
    """October drafts (with usage) for ``partners`` (default: A's two partners)."""
    partners = partners or [personas.a_partner, personas.a_other_partner]
    plan = make_plan(PCT30)
    for partner in partners:
        assign(partner, plan)
        usage(partner, "music", "100.00")
        usage(partner, "video", "50.00")
    run(OCT)
    return {p: Statement.objects.get(partner=p, month=OCT) for p in partners}


def two_tenant_drafts(personas) -> dict[str, Statement]:
    """October drafts of tenant A's partner ("a") and of tenant B's partner ("b")."""
    with tenant_context(personas.tenant_a):
        statements = statement_world(personas)
    with tenant_context(personas.tenant_b):
        b = statement_world(personas, partners=[personas.b_partner])
    return {"a": statements[personas.a_partner], "b": b[personas.b_partner]}
