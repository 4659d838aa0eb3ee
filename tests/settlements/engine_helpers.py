"""Shared set-up for settlement engine tests: plans, agreements, usage and FX, built directly."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from partners.models import Agreement, AgreementStatus, AgreementType, Partner
from settlements.models import FxRate, RevenueSharePlan, Statement, UsageImport, UsageRecord
from settlements.services.plans import plan_assignment_create, plan_create

_ids = itertools.count(1)

PCT30 = {
    "name": "Thirty percent",
    "currency": "EUR",
    "direction": "payable",
    "basis": "gross",
    "fx": "transaction_date",
    "rules": [{"product": "*", "type": "percentage", "rate": "0.30"}],
}


def make_plan(content: dict | None = None, **changes) -> RevenueSharePlan:
    body = {**(content or PCT30), "name": f"Plan {next(_ids)}", **changes}
    return plan_create(content=body)


def assign(partner: Partner, plan: RevenueSharePlan, since: date = date(2026, 1, 1)) -> Agreement:
    agreement = Agreement.objects.create(
        partner=partner,
        agreement_type=AgreementType.REVENUE_SHARE,
        reference=f"AGR-{next(_ids)}",
        title="Revenue share",
        status=AgreementStatus.ACTIVE,
        start_date=date(2026, 1, 1),
    )
    plan_assignment_create(agreement=agreement, plan=plan, effective_from=since)
    return agreement


def usage(
    partner: Partner,
    product: str,
    gross: str,
    *,
    when: datetime | str = "2026-10-15T12:00:00+00:00",
    quantity: str = "1",
    tax: str = "0",
    currency: str = "EUR",
    import_id: int | None = None,
) -> UsageRecord:
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return UsageRecord.objects.create(
        partner=partner,
        product_code=product,
        event_time=when,
        quantity=Decimal(quantity),
        gross_amount=Decimal(gross),
        tax_amount=Decimal(tax),
        currency=currency,
        external_id=f"u{next(_ids)}",
        usage_import_id=import_id,
    )


def make_import() -> UsageImport:
    return UsageImport.objects.create(source="api", status=UsageImport.Status.DONE)


def fx(day: str, base: str, quote: str, rate: str) -> FxRate:
    return FxRate.objects.create(
        date=date.fromisoformat(day), base=base, quote=quote, rate=Decimal(rate)
    )


def snapshot(month: date = date(2026, 10, 1)) -> list[tuple]:
    """Everything a statement says, comparable across runs."""
    out = []
    for s in Statement.objects.filter(month=month).prefetch_related("lines").order_by("partner_id"):
        out.append(
            (
                s.partner_id,
                s.currency,
                s.direction,
                s.status,
                s.basis_total,
                s.partner_share,
                s.csp_share,
                s.content_hash,
                s.plan_version_id,
                tuple(
                    (ln.kind, ln.product_code, ln.amount, ln.record_count) for ln in s.lines.all()
                ),
            )
        )
    return out


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Berlin"))
