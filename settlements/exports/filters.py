"""Which statements an export holds: a month and optional filters (status, partner, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django_filters import rest_framework as filters

from partners.models import Partner
from settlements.currencies import is_iso_currency
from settlements.models import Statement, StatementLine
from settlements.selectors.statements import PARTNER_VISIBLE_STATUSES

DIRECTIONS = (("payable", "Payable"), ("receivable", "Receivable"))
# Statements a partner may see and download in the portal.


class StatementExportFilter(filters.FilterSet):
    """The filters an export takes; stored as JSON on an export and re-applied by its task."""

    status = filters.MultipleChoiceFilter(choices=Statement.Status.choices)
    partner = filters.NumberFilter(field_name="partner_id", min_value=1)
    currency = filters.CharFilter()
    direction = filters.ChoiceFilter(choices=DIRECTIONS)

    class Meta:
        model = Statement
        fields: list[str] = []


def export_filters_clean(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """``data`` checked and normalised to JSON (only the filters given); ``ValidationError``
    naming each bad filter otherwise."""
    data = dict(data or {})
    unknown = sorted(set(data) - set(StatementExportFilter.base_filters))
    if unknown:
        raise ValidationError(
            f"Unknown filter {', '.join(unknown)}: use status, partner, currency or direction."
        )
    if isinstance(data.get("status"), str):
        data["status"] = [data["status"]]
    filterset = StatementExportFilter(data=data, queryset=Statement.objects.none())
    errors: dict[str, list[str]] = {}
    if not filterset.is_valid():
        errors = {name: list(messages) for name, messages in filterset.errors.items()}
    cleaned = filterset.form.cleaned_data if not errors else {}
    currency = cleaned.get("currency")
    partner_id = cleaned.get("partner")
    if partner_id and not Partner.objects.filter(pk=int(partner_id)).exists():
        # Another tenant's partner is answered like one that does not exist.
        errors["partner"] = [f"No partner with id {int(partner_id)}."]
    if currency and not is_iso_currency(currency):
        errors["currency"] = [f"{currency!r} is not an ISO 4217 currency code such as EUR."]
    if errors:
        raise ValidationError(
            {name: [f"{name}: {' '.join(messages)}"] for name, messages in errors.items()}
        )
    out: dict[str, Any] = {}
    if cleaned.get("status"):
        out["status"] = sorted(cleaned["status"])
    if cleaned.get("partner"):
        out["partner"] = int(cleaned["partner"])
    if currency:
        out["currency"] = currency
    if cleaned.get("direction"):
        out["direction"] = cleaned["direction"]
    return out


def statement_export_queryset(
    *, month: date, filters: Mapping[str, Any] | None = None, partner: Partner | None = None
) -> QuerySet[Statement]:
    """The current tenant's statements of ``month`` matching ``filters`` (already cleaned), in
    export order; ``partner`` limits them to a partner's own visible statements (portal)."""
    queryset = Statement.objects.filter(month=month)
    if partner is not None:
        queryset = queryset.filter(partner=partner, status__in=PARTNER_VISIBLE_STATUSES)
    queryset = StatementExportFilter(data=dict(filters or {}), queryset=queryset).qs
    return queryset.order_by("partner__legal_name", "currency", "pk")


def statements_for_export(*, ids: Sequence[int], with_lines: bool) -> list[Statement]:
    """The statements ``ids`` in that order, with partner, plan and (optionally) lines loaded:
    two or three queries whatever their number."""
    queryset = (
        Statement.objects.filter(pk__in=ids)
        .select_related("partner", "plan_version__plan")
        .annotate(line_count=Count("lines"))
    )
    if with_lines:
        queryset = queryset.prefetch_related(
            Prefetch("lines", queryset=StatementLine.objects.order_by("position", "pk"))
        )
    by_id = {s.pk: s for s in queryset}
    return [by_id[pk] for pk in ids if pk in by_id]
