"""The finance dashboard: where the open and last months stand (a constant number of queries)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

from kpis.periods import tenant_today
from partners.models import Dispute, DisputeStatus
from settlements.models import SettlementRun, Statement
from settlements.selectors.reconciliation import REASONS
from settlements.services.statements_build import add_months

OLDEST_UNPAID_LIMIT = 10
OPEN_DISPUTES_LIMIT = 10
OPEN_DISPUTE_STATUSES = (DisputeStatus.OPEN, DisputeStatus.INVESTIGATING)
UNPAID = (Statement.Status.APPROVED, Statement.Status.DISPUTED)


@dataclass(frozen=True)
class StatusRow:
    month: date
    status: str
    currency: str
    count: int
    partner_share: Decimal


@dataclass(frozen=True)
class Outstanding:
    """Approved (or disputed) statements not yet paid, by direction and currency."""

    direction: str  # payable: the CSP pays; receivable: the partner owes the CSP
    currency: str
    status: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class UnsettledTotal:
    month: date
    reason: str
    currency: str
    record_count: int
    basis: Decimal

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class FinanceDashboard:
    open_month: date
    last_month: date
    by_status: list[StatusRow]
    outstanding: list[Outstanding]
    oldest_unpaid: list[Statement]
    open_disputes: list[Dispute]
    open_dispute_count: int
    unsettled: list[UnsettledTotal]
    runs: dict[date, SettlementRun]


def _reason_order(reason: str) -> int:
    order = list(REASONS)
    return order.index(reason) if reason in order else len(order)


def finance_dashboard(*, today: date | None = None) -> FinanceDashboard:
    """The current tenant's finance figures: six queries whatever the number of statements."""
    open_month = (today or tenant_today()).replace(day=1)
    last_month = add_months(open_month, -1)
    months = (last_month, open_month)
    by_status = [
        StatusRow(r["month"], r["status"], r["currency"], r["n"], r["share"] or Decimal(0))
        for r in Statement.objects.filter(month__in=months)
        .values("month", "status", "currency")
        .annotate(n=Count("pk"), share=Sum("partner_share"))
        .order_by("-month", "status", "currency")
    ]
    outstanding = [
        Outstanding(r["direction"], r["currency"], r["status"], r["n"], r["amount"])
        for r in Statement.objects.filter(status__in=UNPAID)
        .values("direction", "currency", "status")
        .annotate(n=Count("pk"), amount=Sum("partner_share"))
        .order_by("direction", "currency", "status")
    ]
    oldest = list(
        Statement.objects.filter(status=Statement.Status.APPROVED)
        .select_related("partner")
        .order_by("month", "pk")[:OLDEST_UNPAID_LIMIT]
    )
    disputes = Dispute.objects.filter(
        category=Dispute.Category.SETTLEMENT, status__in=OPEN_DISPUTE_STATUSES
    )
    open_disputes = list(
        disputes.select_related("partner").order_by("opened_at", "pk")[:OPEN_DISPUTES_LIMIT]
    )
    dispute_count = (
        len(open_disputes) if len(open_disputes) < OPEN_DISPUTES_LIMIT else disputes.count()
    )
    # The latest done run of each month: its unsettled usage (the month's own, not late).
    runs = {
        r.month: r
        for r in SettlementRun.objects.filter(month__in=months, status=SettlementRun.Status.DONE)
        .order_by("month", "-created_at", "-pk")
        .distinct("month")
    }
    totals: dict[tuple[date, str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for month, run in runs.items():
        for entry in run.unsettled:
            if entry.get("late"):
                continue
            total = totals[(month, entry["reason"], entry["currency"])]
            total[0] += int(entry["record_count"])
            total[1] += Decimal(entry["basis"])
    unsettled = [
        UnsettledTotal(month, reason, ccy, int(count), basis)
        for (month, reason, ccy), (count, basis) in sorted(
            totals.items(),
            key=lambda kv: (-kv[0][0].toordinal(), _reason_order(kv[0][1]), kv[0][2]),
        )
    ]
    return FinanceDashboard(
        open_month=open_month,
        last_month=last_month,
        by_status=by_status,
        outstanding=outstanding,
        oldest_unpaid=oldest,
        open_disputes=open_disputes,
        open_dispute_count=dispute_count,
        unsettled=unsettled,
        runs=runs,
    )
