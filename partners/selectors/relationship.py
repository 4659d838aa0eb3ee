"""Reads of the relationship area: interactions, quiet partners, disputes, notifications."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Count, DateField, F, Prefetch, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django_filters.widgets import BooleanWidget

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
from partners.selectors.registry import OwnedPartnerFilterSet, staff_users

OPEN_DISPUTE = (DisputeStatus.OPEN, DisputeStatus.INVESTIGATING)


# --- interactions -----------------------------------------------------------------------------


def interactions_of_partner(partner: Partner) -> QuerySet[Interaction]:
    return Interaction.objects.filter(partner=partner).select_related("logged_by")


class InteractionFilter(django_filters.FilterSet):
    """Filters of a partner's interaction log: its page tab, the API and the export alike."""

    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices, empty_label="All kinds")
    since = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte", label="From")
    until = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte", label="Until")

    class Meta:
        model = Interaction
        fields = ["kind", "since", "until"]


INTERACTION_EXPORT_COLUMNS = [
    "Date",
    "Kind",
    "Subject",
    "Participants",
    "Notes",
    "Next steps",
    "Follow-up",
    "Logged by",
    "Logged at",
]


def interaction_export_rows(interactions: QuerySet[Interaction]) -> Iterator[tuple[Any, ...]]:
    """One row per interaction of an already filtered ``interactions_of_partner()``."""
    for i in interactions:
        yield (
            i.occurred_on,
            i.get_kind_display(),
            i.subject,
            i.participants,
            i.notes,
            i.next_steps,
            i.follow_up_on,
            i.logged_by.email if i.logged_by else "",
            i.created_at,
        )


def quiet_after_days() -> int:
    row = ProgramSettings.objects.first()
    return row.quiet_after_days if row else 14


def partners_quiet(
    *,
    on: date | None = None,
    days: int | None = None,
    partners: QuerySet[Partner] | None = None,
) -> QuerySet[Partner]:
    """Active partners with no interaction for longer than the tenant's threshold.

    ``quiet_since`` is the last contact, or the day the partner's status last changed when it
    was never contacted; longest quiet first. All in SQL. ``partners`` narrows the base set
    (the API passes its tenant-scoped queryset).
    """
    today = on or timezone.localdate()
    threshold = quiet_after_days() if days is None else days
    base = Partner.objects.all() if partners is None else partners
    return (
        base.filter(status=PartnerStatus.ACTIVE)
        .select_related("account_owner", "partner_type")
        .annotate(
            quiet_since=Coalesce(
                F("last_contact_on"), Cast("status_changed_at", output_field=DateField())
            )
        )
        .filter(quiet_since__lt=today - timedelta(days=threshold))
        .order_by("quiet_since", "legal_name")
    )


def days_quiet(partner: Partner, today: date) -> int | None:
    """Days since ``quiet_since`` (a ``partners_quiet()`` annotation)."""
    since = getattr(partner, "quiet_since", None)
    return (today - since).days if since else None


class QuietPartnerFilter(OwnedPartnerFilterSet):
    """Filters of the quiet partners list: its page, the API and the exports alike."""

    account_owner = django_filters.ModelChoiceFilter(
        queryset=lambda request: staff_users(), label="Account owner", empty_label="All owners"
    )
    mine = django_filters.BooleanFilter(
        method="filter_mine", label="Only my partners", widget=BooleanWidget()
    )

    class Meta:
        model = Partner
        fields = ["account_owner", "mine"]


QUIET_EXPORT_COLUMNS = [
    "ID",
    "Legal name",
    "Trading name",
    "Type",
    "Account owner",
    "Last contact",
    "Quiet since",
    "Days quiet",
]


def quiet_export_rows(partners: QuerySet[Partner]) -> Iterator[tuple[Any, ...]]:
    """One row per partner of an already filtered ``partners_quiet()``."""
    today = timezone.localdate()
    for p in partners:
        yield (
            p.pk,
            p.legal_name,
            p.trading_name,
            p.partner_type.name,
            p.account_owner.email if p.account_owner else "",
            p.last_contact_on,
            getattr(p, "quiet_since", None),
            days_quiet(p, today),
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


DISPUTE_EXPORT_COLUMNS = [
    "ID",
    "Title",
    "Partner",
    "Category",
    "Status",
    "Raised by",
    "Raised by partner",
    "Owner",
    "Agreement",
    "Opened",
    "Investigating since",
    "Closed",
    "Days open",
    "Days investigating",
    "Days in total",
    "Comments",
    "Resolution",
]


def _days(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / Decimal(86400)).quantize(Decimal("0.1"))


def dispute_export_rows(disputes: QuerySet[Dispute]) -> Iterator[tuple[Any, ...]]:
    """One row per dispute of an already filtered ``dispute_list()``, with its stage times in
    days (the current stage so far, for disputes still open)."""
    now = timezone.now()
    for d in disputes:
        stages = dispute_stage_durations(d, now=now)
        yield (
            d.pk,
            d.title,
            d.partner.display_name,
            d.get_category_display(),
            d.get_status_display(),
            d.raised_by.email if d.raised_by else "",
            "yes" if d.raised_by_partner else "no",
            d.owner.email if d.owner else "",
            d.agreement.reference if d.agreement else "",
            d.opened_at,
            d.investigating_at,
            d.closed_at,
            _days(stages["open"]),
            _days(stages["investigating"]),
            _days(stages["total"]),
            getattr(d, "comment_count", None),
            d.resolution,
        )


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
