"""Reads for onboarding: a partner's panel, the pipeline, the funnel with median days per stage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import django_filters
from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Lead
from django.utils import timezone
from django_filters.widgets import BooleanWidget

from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Partner,
    PartnerStatus,
    PartnerType,
    RiskAssessment,
    StatusTransition,
)
from partners.selectors.registry import OwnedPartnerFilterSet, staff_users
from partners.services.onboarding import PIPELINE, STEP_DONE_STATES

SECONDS_PER_DAY = Decimal(86400)
# The stages the funnel reports on, in order: the pipeline, then where partners end up.
FUNNEL_STAGES: tuple[PartnerStatus, ...] = (
    *PIPELINE,
    PartnerStatus.ACTIVE,
    PartnerStatus.SUSPENDED,
    PartnerStatus.OFFBOARDING,
    PartnerStatus.EXITED,
    PartnerStatus.REJECTED,
)


def partner_onboarding_get(*, pk: int) -> Partner:
    """The partner (of the active tenant) with what the onboarding panel shows about it."""
    return Partner.objects.select_related("partner_type", "account_owner", "tier").get(pk=pk)


def transitions_with_next(queryset: QuerySet[StatusTransition]) -> QuerySet[StatusTransition]:
    """Annotate each transition with ``left_at``: when the partner left the stage it entered
    (the next transition of the same partner, via LEAD), NULL while it is still there."""
    return queryset.annotate(
        left_at=Window(
            Lead("at"),
            partition_by=[F("partner_id")],
            order_by=[F("at").asc(), F("id").asc()],
        )
    )


def partner_transition_history(*, partner: Partner) -> list[StatusTransition]:
    """The partner's lifecycle history, oldest first, each entry with ``days_in_stage``."""
    rows = list(
        transitions_with_next(
            StatusTransition.objects.filter(partner=partner).select_related("actor")
        ).order_by("at", "id")
    )
    now = timezone.now()
    for row in rows:
        end = row.left_at or now  # type: ignore[attr-defined]
        row.days_in_stage = _days(end - row.at)  # type: ignore[attr-defined]
        row.is_current = row.left_at is None  # type: ignore[attr-defined]
    return rows


def partner_checklist(*, partner: Partner, kind: str | None = None) -> list[ChecklistStep]:
    steps = ChecklistStep.objects.filter(partner=partner).select_related("document", "completed_by")
    if kind is not None:
        steps = steps.filter(kind=kind)
    return list(steps.order_by("kind", "position", "id"))


def partner_risk_assessments(*, partner: Partner) -> list[RiskAssessment]:
    return list(
        RiskAssessment.objects.filter(partner=partner)
        .select_related("assessed_by")
        .order_by("-assessed_at", "-id")
    )


def _days(delta: timedelta) -> Decimal:
    return (Decimal(delta.total_seconds()) / SECONDS_PER_DAY).quantize(Decimal("0.1"))


def days_in_stage(partner: Partner, *, now: Any = None) -> Decimal:
    """Days since the partner entered its current status, to a tenth of a day."""
    return _days((now or timezone.now()) - partner.status_changed_at)


@dataclass
class FunnelStage:
    status: str
    label: str
    count: int  # partners in this stage now
    median_days: Decimal | None  # median time partners spent in it (completed stays only)
    stays: int  # completed stays the median is computed from
    partners: list[Partner] = field(default_factory=list)


def stage_median_days() -> dict[str, tuple[Decimal, int]]:
    """Median days per stage, over the stays that ended (the partner moved on), in SQL.

    The tenant-scoped ORM query yields each transition with the time of the partner's next one
    (LEAD over the partner's history, ordered by time); PostgreSQL's percentile_cont takes the
    median per stage. One query whatever the number of partners.
    """
    inner = StatusTransition.objects.annotate(
        left_at=Window(
            Lead("at"), partition_by=[F("partner_id")], order_by=[F("at").asc(), F("id").asc()]
        )
    ).values("to_status", "at", "left_at")
    inner_sql, params = inner.query.sql_with_params()
    sql = (
        "SELECT stays.to_status, "  # noqa: S608 - the inner SQL is Django's, with bound params
        "percentile_cont(0.5) WITHIN GROUP "
        "(ORDER BY EXTRACT(EPOCH FROM stays.left_at - stays.at)), COUNT(*) "
        f"FROM ({inner_sql}) AS stays WHERE stays.left_at IS NOT NULL GROUP BY stays.to_status"
    )
    with connections[inner.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        status: (
            (Decimal(str(seconds)) / SECONDS_PER_DAY).quantize(Decimal("0.1")),
            int(stays),
        )
        for status, seconds, stays in rows
    }


def onboarding_funnel() -> list[FunnelStage]:
    """How many partners are in each stage now and the median days a stage takes (2 queries)."""
    counts = dict(
        Partner.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    medians = stage_median_days()
    return [
        FunnelStage(
            status=status,
            label=str(status.label),
            count=counts.get(status, 0),
            median_days=medians.get(status, (None, 0))[0],
            stays=medians.get(status, (None, 0))[1],
        )
        for status in FUNNEL_STAGES
    ]


def pipeline_partners(
    *,
    partner_type_id: int | None = None,
    account_owner_id: int | None = None,
    partners: QuerySet[Partner] | None = None,
) -> QuerySet[Partner]:
    """Partners in the onboarding pipeline with their mandatory-step progress (one query);
    ``partners`` narrows the base set (the API passes its tenant-scoped queryset)."""
    mandatory = Q(checklist__kind=ChecklistKind.ONBOARDING, checklist__mandatory=True)
    base = Partner.objects.all() if partners is None else partners
    partners = (
        base.filter(status__in=PIPELINE)
        .select_related("partner_type", "account_owner")
        .annotate(
            steps_total=Count("checklist", filter=mandatory),
            steps_done=Count(
                "checklist", filter=mandatory & Q(checklist__state__in=STEP_DONE_STATES)
            ),
        )
        .order_by("status_changed_at", "id")
    )
    if partner_type_id is not None:
        partners = partners.filter(partner_type_id=partner_type_id)
    if account_owner_id is not None:
        partners = partners.filter(account_owner_id=account_owner_id)
    return partners


class PipelineFilter(OwnedPartnerFilterSet):
    """Filters of the pipeline's partners: the API list and the exports (the page's own form
    sends the same names: ``partner_type``, ``owner``, ``mine``)."""

    partner_type = django_filters.ModelChoiceFilter(
        queryset=lambda request: PartnerType.objects.order_by("name"), label="Partner type"
    )
    owner = django_filters.ModelChoiceFilter(
        field_name="account_owner", queryset=lambda request: staff_users(), label="Account owner"
    )
    mine = django_filters.BooleanFilter(
        method="filter_mine", label="Only partners I own", widget=BooleanWidget()
    )

    class Meta:
        model = Partner
        fields = ["partner_type", "owner", "mine"]


PIPELINE_EXPORT_COLUMNS = [
    "ID",
    "Legal name",
    "Trading name",
    "Type",
    "Stage",
    "In stage since",
    "Days in stage",
    "Mandatory steps done",
    "Mandatory steps",
    "Account owner",
    "Risk level",
]


def pipeline_export_rows(partners: QuerySet[Partner]) -> Iterator[tuple[Any, ...]]:
    """One row per partner of an already filtered ``pipeline_partners()``, longest waiting
    first."""
    now = timezone.now()
    for p in partners:
        yield (
            p.pk,
            p.legal_name,
            p.trading_name,
            p.partner_type.name,
            p.get_status_display(),
            p.status_changed_at,
            days_in_stage(p, now=now),
            p.steps_done,  # type: ignore[attr-defined]
            p.steps_total,  # type: ignore[attr-defined]
            p.account_owner.email if p.account_owner else "",
            p.get_risk_level_display() if p.risk_level else "",
        )


def onboarding_pipeline(
    *, partner_type_id: int | None = None, account_owner_id: int | None = None
) -> list[FunnelStage]:
    """The funnel with, for each pipeline stage, its partners (longest waiting first)."""
    stages = onboarding_funnel()
    by_status: dict[str, FunnelStage] = {stage.status: stage for stage in stages}
    now = timezone.now()
    for partner in pipeline_partners(
        partner_type_id=partner_type_id, account_owner_id=account_owner_id
    ):
        partner.days_in_stage = _days(now - partner.status_changed_at)  # type: ignore[attr-defined]
        by_status[partner.status].partners.append(partner)
    return stages


def checklist_template_items(*, kind: str, partner_type_id: int | None) -> list[Any]:
    """One template list: the common steps (type None) or one partner type's own steps."""
    items = ChecklistTemplateItem.objects.filter(kind=kind).select_related("partner_type")
    if partner_type_id is None:
        items = items.filter(partner_type__isnull=True)
    else:
        items = items.filter(partner_type_id=partner_type_id)
    return list(items.order_by("position", "id"))
