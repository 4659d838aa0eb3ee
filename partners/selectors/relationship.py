"""Reads of the relationship area: interactions, quiet partners, disputes, notifications."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import django_filters
from django.db.models import Count, DateField, F, Prefetch, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import get_current_tenant
from partners.models import (
    Dispute,
    DisputeComment,
    DisputeStatus,
    Interaction,
    Notification,
    Partner,
    PartnerStatus,
    ProgramSettings,
)

OPEN_DISPUTE = (DisputeStatus.OPEN, DisputeStatus.INVESTIGATING)


# --- interactions -----------------------------------------------------------------------------


def interactions_of_partner(partner: Partner) -> QuerySet[Interaction]:
    return Interaction.objects.filter(partner=partner).select_related("logged_by")


def quiet_after_days() -> int:
    row = ProgramSettings.objects.first()
    return row.quiet_after_days if row else 14


def partners_quiet(*, on: date | None = None, days: int | None = None) -> QuerySet[Partner]:
    """Active partners with no interaction for longer than the tenant's threshold.

    ``quiet_since`` is the last contact, or the day the partner's status last changed when it
    was never contacted; longest quiet first. All in SQL.
    """
    today = on or timezone.localdate()
    threshold = quiet_after_days() if days is None else days
    return (
        Partner.objects.filter(status=PartnerStatus.ACTIVE)
        .select_related("account_owner", "partner_type")
        .annotate(
            quiet_since=Coalesce(
                F("last_contact_on"), Cast("status_changed_at", output_field=DateField())
            )
        )
        .filter(quiet_since__lt=today - timedelta(days=threshold))
        .order_by("quiet_since", "legal_name")
    )


# --- disputes ---------------------------------------------------------------------------------


def dispute_list() -> QuerySet[Dispute]:
    return (
        Dispute.objects.select_related("partner", "owner", "agreement", "raised_by")
        .annotate(comment_count=Count("comments"))
        .order_by("-opened_at", "-id")
    )


def disputes_of_partner(partner: Partner) -> QuerySet[Dispute]:
    return dispute_list().filter(partner=partner)


def dispute_detail(pk: int, *, partner: Partner | None = None) -> Dispute:
    """One dispute with its thread; with ``partner`` only that partner's (raises DoesNotExist)."""
    queryset = Dispute.objects.select_related("partner", "owner", "agreement", "raised_by")
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset.prefetch_related(
        Prefetch(
            "comments",
            queryset=DisputeComment.objects.select_related("author", "attachment").order_by(
                "created_at", "id"
            ),
        )
    ).get(pk=pk)


def dispute_stage_durations(dispute: Dispute, *, now: datetime | None = None) -> dict[str, Any]:
    """How long each stage took (or has taken so far): open, investigating, total."""
    now = now or timezone.now()
    end_open = dispute.investigating_at or dispute.closed_at or now
    result: dict[str, timedelta | None] = {
        "open": end_open - dispute.opened_at,
        "investigating": (
            (dispute.closed_at or now) - dispute.investigating_at
            if dispute.investigating_at
            else None
        ),
        "total": (dispute.closed_at or now) - dispute.opened_at,
    }
    return result


def duration_text(value: timedelta | None) -> str:
    """A stage time as people read it: "2 d 4 h", "3 h 12 min", "5 min", "under a minute"."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "under a minute"


def dispute_stage_texts(dispute: Dispute) -> dict[str, str]:
    return {name: duration_text(value) for name, value in dispute_stage_durations(dispute).items()}


class DisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DisputeStatus.choices, empty_label="All statuses")
    category = django_filters.ChoiceFilter(
        choices=Dispute.Category.choices, empty_label="All categories"
    )
    partner = django_filters.ModelChoiceFilter(
        queryset=lambda request: Partner.objects.order_by("legal_name"),
        label="Partner",
        empty_label="All partners",
    )
    is_open = django_filters.BooleanFilter(method="filter_open", label="Open or investigating")

    class Meta:
        model = Dispute
        fields = ["status", "category", "partner", "is_open"]

    def filter_open(
        self, queryset: QuerySet[Dispute], name: str, value: bool | None
    ) -> QuerySet[Dispute]:
        if value is None:
            return queryset
        return (
            queryset.filter(status__in=OPEN_DISPUTE)
            if value
            else queryset.exclude(status__in=OPEN_DISPUTE)
        )


# --- notifications ----------------------------------------------------------------------------


def notifications_of_user(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("partner")


def notification_unread_count(user: User) -> int:
    """For the navbar badge: one indexed COUNT (0 without a signed-in user or active tenant)."""
    if not user.is_authenticated or get_current_tenant() is None:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def open_tasks_of_user(user: User) -> QuerySet[Notification]:
    return (
        notifications_of_user(user)
        .filter(is_task=True, read_at__isnull=True)
        .order_by(F("due_on").asc(nulls_last=True), "-created_at")
    )


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(method="filter_unread", label="Unread only")
    is_task = django_filters.BooleanFilter(label="Tasks only")
    kind = django_filters.CharFilter()

    class Meta:
        model = Notification
        fields = ["unread", "is_task", "kind"]

    def filter_unread(
        self, queryset: QuerySet[Notification], name: str, value: bool | None
    ) -> QuerySet[Notification]:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)
