"""Revenue-share plans: create, add a version (old versions are never changed), assign."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q

from partnerhub.accounts.models import User
from partners.models import Agreement
from settlements.models import PlanAssignment, RevenueSharePlan, RevenueSharePlanVersion
from settlements.plans import plan_content_parse


@transaction.atomic
def plan_create(
    *, content: str | bytes | dict[str, Any], user: User | None = None
) -> RevenueSharePlan:
    """A new plan from validated content, with version 1."""
    parsed = plan_content_parse(content)
    if RevenueSharePlan.objects.filter(name=parsed["name"]).exists():
        raise ValidationError({"name": [f"A plan named {parsed['name']!r} already exists."]})
    plan = RevenueSharePlan(name=parsed["name"])
    plan.full_clean(exclude=["tenant"])
    plan.save()
    _version_save(plan=plan, number=1, parsed=parsed, user=user)
    return plan


@transaction.atomic
def plan_version_create(
    *, plan: RevenueSharePlan, content: str | bytes | dict[str, Any], user: User | None = None
) -> RevenueSharePlanVersion:
    """Append a version; statements keep pointing at the version they were computed with."""
    parsed = plan_content_parse(content)
    # Lock the plan row so two concurrent versions cannot take the same number.
    RevenueSharePlan.objects.select_for_update().get(pk=plan.pk)
    number = (plan.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    if parsed["name"] != plan.name:
        if RevenueSharePlan.objects.filter(name=parsed["name"]).exclude(pk=plan.pk).exists():
            raise ValidationError({"name": [f"A plan named {parsed['name']!r} already exists."]})
        plan.name = parsed["name"]
        plan.save(update_fields=["name"])
    return _version_save(plan=plan, number=number, parsed=parsed, user=user)


def _version_save(
    *, plan: RevenueSharePlan, number: int, parsed: dict[str, Any], user: User | None
) -> RevenueSharePlanVersion:
    version = RevenueSharePlanVersion(
        plan=plan, number=number, content=parsed, currency=parsed["currency"], created_by=user
    )
    version.full_clean(exclude=["tenant", "plan", "created_by"])
    version.save()
    return version


@transaction.atomic
def plan_assignment_create(
    *,
    agreement: Agreement,
    plan: RevenueSharePlan,
    effective_from: date,
    effective_to: date | None = None,
) -> PlanAssignment:
    """Settle ``agreement`` under ``plan`` from a date; periods of one agreement never overlap."""
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["must be on or after effective_from"]})
    overlapping = PlanAssignment.objects.filter(agreement=agreement).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=effective_from)
    )
    if effective_to is not None:
        overlapping = overlapping.filter(effective_from__lte=effective_to)
    if overlapping.exists():
        raise ValidationError(
            {"effective_from": ["overlaps another plan assignment of this agreement"]}
        )
    assignment = PlanAssignment(
        agreement=agreement, plan=plan, effective_from=effective_from, effective_to=effective_to
    )
    assignment.full_clean(exclude=["tenant", "agreement", "plan"])
    assignment.save()
    return assignment
