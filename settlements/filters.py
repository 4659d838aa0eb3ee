"""Filters shared by the statement pages and the API (one definition, same behaviour)."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from kpis.periods import Period
from settlements.models import Statement, StatementAdjustment


def parse_month(value: str) -> date:
    """``YYYY-MM`` (or a date in the month) → the month's first day; a clear error otherwise."""
    try:
        period = Period.parse(value.strip()[:7])
    except (ValidationError, ValueError):
        raise ValidationError(f"{value!r} is not a month: use YYYY-MM.") from None
    if period.kind != "month":
        raise ValidationError(f"{value!r} is not a month: use YYYY-MM.")
    return period.start


class MonthField(forms.CharField):
    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        return parse_month(text) if text else None


class MonthFilter(django_filters.Filter):
    """A month as ``YYYY-MM``; a bad value is a 400 naming it, not an empty list."""

    field_class = MonthField


class StatementFilter(django_filters.FilterSet):
    month = MonthFilter(field_name="month", help_text="The statement month, YYYY-MM.")
    status = django_filters.ChoiceFilter(choices=Statement.Status.choices)
    partner = django_filters.NumberFilter(field_name="partner_id", help_text="Partner id.")
    currency = django_filters.CharFilter(
        field_name="currency", help_text="ISO 4217 code, e.g. EUR.", max_length=3
    )

    class Meta:
        model = Statement
        fields: list[str] = []


class AdjustmentFilter(django_filters.FilterSet):
    partner = django_filters.NumberFilter(field_name="partner_id", help_text="Partner id.")
    settled = django_filters.BooleanFilter(
        field_name="settled_in", lookup_expr="isnull", exclude=True, help_text="Settled in a run."
    )
    corrects_statement = django_filters.NumberFilter(field_name="corrects_statement_id")
    settled_in = django_filters.NumberFilter(field_name="settled_in_id")

    class Meta:
        model = StatementAdjustment
        fields: list[str] = []
