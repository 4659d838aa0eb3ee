"""The settlement figures the dashboard shows (a constant number of queries)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from partners.models import Partner
from settlements.models import SettlementRun, Statement


@dataclass(frozen=True)
class SettlementOverview:
    draft_statements: int
    disputed_statements: int
    approved_statements: int  # approved, not yet paid
    latest_run: SettlementRun | None


def settlement_overview() -> SettlementOverview:
    """Draft, disputed and approved statements of the current tenant, and its latest run."""
    counts = Statement.objects.aggregate(
        draft=Count("pk", filter=Q(status=Statement.Status.DRAFT)),
        disputed=Count("pk", filter=Q(status=Statement.Status.DISPUTED)),
        approved=Count("pk", filter=Q(status=Statement.Status.APPROVED)),
    )
    return SettlementOverview(
        draft_statements=counts["draft"],
        disputed_statements=counts["disputed"],
        approved_statements=counts["approved"],
        latest_run=SettlementRun.objects.order_by("-created_at", "-pk").first(),
    )


def partner_statement_list(*, partner: Partner, limit: int = 6) -> list[Statement]:
    """A partner's latest statements, newest month first (one query)."""
    return list(Statement.objects.filter(partner=partner).order_by("-month", "-pk")[:limit])
