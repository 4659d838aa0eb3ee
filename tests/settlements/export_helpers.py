"""Hand-made statements for the export tests (no settlement run: every figure is chosen here)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from partners.models import Partner
from settlements.models import Statement, StatementLine
from tests.settlements.engine_helpers import make_plan

OCTOBER = date(2026, 10, 1)


def make_statement(
    partner: Partner,
    *,
    month: date = OCTOBER,
    status: str = Statement.Status.APPROVED,
    currency: str = "EUR",
    direction: str = "payable",
    basis: str = "1000.00",
    share: str = "300.00",
    description: str = "all other products: 30% of 1000.00",
    product_code: str = "music",
    adjustment: str | None = None,
) -> Statement:
    """A statement with one percentage rule line (30 % of ``basis``) and optionally a manual
    adjustment line; totals as given (``share`` includes the adjustment)."""
    plan = make_plan(currency=currency, direction=direction)
    statement = Statement.objects.create(
        partner=partner,
        month=month,
        plan_version=plan.versions.get(),
        currency=currency,
        direction=direction,
        status=Statement.Status.DRAFT,
        basis_total=Decimal(basis),
        partner_share=Decimal(share),
        csp_share=Decimal(basis) - Decimal(share),
        content_hash="ab" * 32,
    )
    rule_amount = Decimal(share) - Decimal(adjustment or "0")
    StatementLine.objects.create(
        statement=statement,
        position=1,
        kind=StatementLine.Kind.RULE,
        product_code=product_code,
        description=description,
        basis_amount=Decimal(basis),
        quantity=Decimal("12"),
        record_count=12,
        amount=rule_amount,
        trace={"rule": {"product": "*", "type": "percentage", "rate": "0.30"}},
    )
    if adjustment is not None:
        StatementLine.objects.create(
            statement=statement,
            position=2,
            kind=StatementLine.Kind.ADJUSTMENT,
            description="Correction of September",
            amount=Decimal(adjustment),
        )
    # Lines only go into drafts, and the database allows only draft → approved → paid|disputed.
    path = {
        "approved": ["approved"],
        "paid": ["approved", "paid"],
        "disputed": ["approved", "disputed"],
    }
    for step in path.get(status, []):
        Statement.objects.filter(pk=statement.pk).update(status=step)
    statement.refresh_from_db()
    return statement
