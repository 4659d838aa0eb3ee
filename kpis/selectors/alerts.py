"""Reads of drift alerts: the filtered list (pages and API), one alert, the dashboard count."""

from __future__ import annotations

from django.db.models import QuerySet

from kpis.models import DriftAlert
from partners.models import Partner

OPEN_STATUSES = (DriftAlert.Status.OPEN, DriftAlert.Status.ACKNOWLEDGED)


def drift_alert_list(*, partner: Partner | None = None) -> QuerySet[DriftAlert]:
    """Alerts of the active tenant, newest first, with what a list row shows (constant queries).

    ``partner`` narrows to one partner (the portal and the partner page).
    """
    queryset = DriftAlert.objects.select_related("partner", "kpi", "owner").order_by(
        "-detected_on", "-id"
    )
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset


def drift_alert_get(*, pk: int) -> DriftAlert | None:
    return drift_alert_list().filter(pk=pk).first()


def drift_alert_open_count(*, partner: Partner | None = None) -> int:
    """Open and acknowledged alerts: the dashboard's "open drift alerts" figure (one query)."""
    queryset = DriftAlert.objects.filter(status__in=OPEN_STATUSES)
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset.count()
