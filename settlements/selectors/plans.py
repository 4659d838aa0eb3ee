"""Reads of plans and which plan version settles a partner's month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from partners.models import Agreement, AgreementStatus
from settlements.models import PlanAssignment, RevenueSharePlan, RevenueSharePlanVersion

NO_AGREEMENT = "no_active_agreement"
NO_PLAN = "no_plan"


def plan_list() -> QuerySet[RevenueSharePlan]:
    return RevenueSharePlan.objects.prefetch_related(
        Prefetch("versions", queryset=RevenueSharePlanVersion.objects.order_by("-number"))
    ).order_by("name")


@dataclass(frozen=True)
class PartnerPlan:
    partner_id: int
    version: RevenueSharePlanVersion | None
    reason: str = ""  # why there is no version

    @property
    def content(self) -> dict[str, Any]:
        assert self.version is not None
        return self.version.content


def month_last_day(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def partner_plans_for_month(*, partner_ids: Iterable[int], month: date) -> dict[int, PartnerPlan]:
    """Each partner's plan version for ``month`` (three queries whatever the number of partners).

    A partner settles under the plan assigned to one of its *active* agreements overlapping the
    month, with the assignment effective on the month's first day if any, else the latest one
    starting within the month; the plan's newest version applies.
    """
    ids = list(partner_ids)
    last = month_last_day(month)
    agreements = Agreement.objects.filter(
        partner_id__in=ids, status=AgreementStatus.ACTIVE, start_date__lte=last
    ).exclude(end_date__lt=month)
    with_agreement = set(agreements.values_list("partner_id", flat=True))
    assignments = (
        PlanAssignment.objects.filter(agreement__in=agreements, effective_from__lte=last)
        .exclude(effective_to__lt=month)
        .select_related("agreement")
        .order_by("agreement__partner_id", "-effective_from", "-pk")
    )
    chosen: dict[int, PlanAssignment] = {}
    for assignment in assignments:
        pid = assignment.agreement.partner_id
        current = chosen.get(pid)
        # Prefer the assignment in force on the 1st; else the latest starting in the month.
        if current is None or (
            current.effective_from > month and assignment.effective_from <= month
        ):
            chosen[pid] = assignment
    latest: dict[int, RevenueSharePlanVersion] = {}
    versions = (
        RevenueSharePlanVersion.objects.filter(plan_id__in={a.plan_id for a in chosen.values()})
        .select_related("plan")
        .order_by("plan_id", "-number")
    )
    for version in versions:
        latest.setdefault(version.plan_id, version)
    out: dict[int, PartnerPlan] = {}
    for pid in ids:
        if pid not in with_agreement:
            out[pid] = PartnerPlan(pid, None, NO_AGREEMENT)
        elif pid not in chosen or chosen[pid].plan_id not in latest:
            out[pid] = PartnerPlan(pid, None, NO_PLAN)
        else:
            out[pid] = PartnerPlan(pid, latest[chosen[pid].plan_id])
    return out


def plan_partner_ids_for_month(*, month: date) -> set[int]:
    """Partners with an assignment in force during ``month`` (a guarantee pays without usage)."""
    last = month_last_day(month)
    return set(
        PlanAssignment.objects.filter(
            effective_from__lte=last,
            agreement__status=AgreementStatus.ACTIVE,
            agreement__start_date__lte=last,
        )
        .exclude(effective_to__lt=month)
        .exclude(agreement__end_date__lt=month)
        .values_list("agreement__partner_id", flat=True)
    )
