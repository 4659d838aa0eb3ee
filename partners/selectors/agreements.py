"""Reads of agreements: filtered lists, detail with versions and reviews, due dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from partners.models import Agreement, AgreementStatus, AgreementType, AgreementVersion, Partner
from partners.models.agreements import AgreementReview
from partners.services.agreements import TERM_FIELDS, agreement_snapshot

LIVE = (AgreementStatus.PENDING_SIGNATURE, AgreementStatus.ACTIVE)
# Reviews move the next review date between amendments: it is no term the versions compare.
DIFF_FIELDS = tuple(name for name in TERM_FIELDS if name != "next_review_date")


def reminder_window_days() -> int:
    from partners.models import ProgramSettings

    row = ProgramSettings.objects.first()
    return row.reminder_window_days if row else 30


def agreement_list() -> QuerySet[Agreement]:
    """Every agreement of the tenant with what a list row shows."""
    return Agreement.objects.select_related("partner", "signed_document", "accepted_by")


def agreements_of_partner(partner: Partner) -> QuerySet[Agreement]:
    return agreement_list().filter(partner=partner)


def due_condition(*, on: date, days: int) -> Q:
    """Live, and ending or due for review within ``days`` (overdue reviews included)."""
    until = on + timedelta(days=days)
    return Q(status__in=LIVE) & (
        Q(end_date__gte=on, end_date__lte=until) | Q(next_review_date__lte=until)
    )


def agreements_due(*, on: date, days: int) -> QuerySet[Agreement]:
    """Agreements due for renewal or review within ``days``, soonest first."""
    return (
        agreement_list()
        .filter(due_condition(on=on, days=days))
        .order_by("end_date", "next_review_date", "reference")
    )


def agreement_detail(pk: int) -> Agreement:
    """One agreement with its versions and reviews (raises DoesNotExist)."""
    return (
        agreement_list()
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=AgreementVersion.objects.select_related("created_by").order_by("number"),
            ),
            Prefetch(
                "reviews",
                queryset=AgreementReview.objects.select_related("reviewed_by").order_by(
                    "-reviewed_on", "-id"
                ),
            ),
        )
        .get(pk=pk)
    )


def agreement_version_history(agreement: Agreement) -> list[dict[str, Any]]:
    """Every version oldest first, each with the fields that changed from the one before.

    Frozen versions come from AgreementVersion; the last entry is the current terms.
    """
    versions = list(agreement.versions.all())
    entries: list[dict[str, Any]] = [
        {
            "number": v.number,
            "terms": v.snapshot,
            "reason": "",
            "created_by": None,
            "created_at": None,
            "current": False,
        }
        for v in versions
    ]
    # A version's reason and author describe the amendment that replaced it.
    for index, v in enumerate(versions):
        if index + 1 < len(entries):
            entries[index + 1].update(
                reason=v.reason, created_by=v.created_by, created_at=v.created_at
            )
    current = {
        "number": agreement.version,
        "terms": agreement_snapshot(agreement),
        "reason": versions[-1].reason if versions else "",
        "created_by": versions[-1].created_by if versions else None,
        "created_at": versions[-1].created_at if versions else agreement.created_at,
        "current": True,
    }
    entries.append(current)
    previous: dict[str, Any] | None = None
    for entry in entries:
        entry["changes"] = (
            []
            if previous is None
            else [
                {
                    "field": name,
                    "label": _label(name),
                    "before": previous.get(name),
                    "after": entry["terms"].get(name),
                    "before_display": _display(name, previous.get(name)),
                    "after_display": _display(name, entry["terms"].get(name)),
                }
                for name in DIFF_FIELDS
                if previous.get(name) != entry["terms"].get(name)
            ]
        )
        previous = entry["terms"]
    return entries


def _label(name: str) -> str:
    field = Agreement._meta.get_field(name)
    return str(getattr(field, "verbose_name", name)).capitalize()


def _display(name: str, value: Any) -> str:
    """A snapshot value as the pages show it: choice labels, yes/no, an em dash for empty."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    choices = dict(getattr(Agreement._meta.get_field(name), "choices", None) or [])
    return str(choices.get(value, value))


class AgreementFilter(django_filters.FilterSet):
    """Filters of the list page and the API: partner, type, status, ending soon, review due."""

    q = django_filters.CharFilter(method="filter_q", label="Search")
    partner = django_filters.ModelChoiceFilter(
        queryset=lambda request: Partner.objects.order_by("legal_name"),
        label="Partner",
        empty_label="All partners",
    )
    agreement_type = django_filters.ChoiceFilter(
        choices=AgreementType.choices, label="Type", empty_label="All types"
    )
    status = django_filters.ChoiceFilter(
        choices=AgreementStatus.choices, empty_label="All statuses"
    )
    ending_within = django_filters.NumberFilter(
        method="filter_ending_within", label="Ending within (days)", min_value=0
    )
    due_within = django_filters.NumberFilter(
        method="filter_due_within", label="Due within (days)", min_value=0
    )
    review_due = django_filters.ChoiceFilter(
        method="filter_review_due",
        label="Review",
        choices=[("true", "Due within the reminder window"), ("false", "Not due")],
        empty_label="Any",
    )

    class Meta:
        model = Agreement
        fields = [
            "q",
            "partner",
            "agreement_type",
            "status",
            "ending_within",
            "due_within",
            "review_due",
        ]

    def filter_q(self, queryset: QuerySet[Agreement], name: str, value: str) -> QuerySet[Agreement]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(partner__legal_name__icontains=value)
            | Q(partner__trading_name__icontains=value)
        )

    def filter_ending_within(
        self, queryset: QuerySet[Agreement], name: str, value: Any
    ) -> QuerySet[Agreement]:
        if value is None:
            return queryset
        today = timezone.localdate()
        days = max(0, min(int(value), 36500))
        return queryset.filter(end_date__gte=today, end_date__lte=today + timedelta(days=days))

    def filter_due_within(
        self, queryset: QuerySet[Agreement], name: str, value: Any
    ) -> QuerySet[Agreement]:
        """Ending or due for review within N days: what the dashboard counts."""
        if value is None:
            return queryset
        days = max(0, min(int(value), 36500))
        return queryset.filter(due_condition(on=timezone.localdate(), days=days))

    def filter_review_due(
        self, queryset: QuerySet[Agreement], name: str, value: str
    ) -> QuerySet[Agreement]:
        if value not in ("true", "false"):
            return queryset
        until = timezone.localdate() + timedelta(days=reminder_window_days())
        due = Q(status__in=LIVE, next_review_date__lte=until)
        return queryset.filter(due) if value == "true" else queryset.exclude(due)


AGREEMENT_EXPORT_COLUMNS = [
    "Reference",
    "Title",
    "Partner",
    "Type",
    "Status",
    "Version",
    "Start",
    "End",
    "Auto-renew",
    "Notice (days)",
    "Review cadence",
    "Next review",
    "Accepted by partner",
]


def agreement_export_rows(agreements: QuerySet[Agreement]) -> Iterator[tuple[Any, ...]]:
    """One row per agreement of an already filtered ``agreement_list()`` (page, API alike)."""
    for a in agreements:
        yield (
            a.reference,
            a.title,
            a.partner.display_name,
            a.get_agreement_type_display(),
            a.get_status_display(),
            a.version,
            a.start_date,
            a.end_date,
            "yes" if a.auto_renew else "no",
            a.notice_period_days,
            a.get_review_cadence_display(),
            a.next_review_date,
            a.accepted_by_partner_at,
        )
