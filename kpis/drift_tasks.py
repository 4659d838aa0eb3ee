"""Celery tasks of the KPI-drift job: thin wrappers that carry the tenant id explicitly.

Beat runs ``kpi_drift_detect`` nightly; it fans out one ``kpi_drift_detect_tenant`` per active
tenant. ``kpi_drift_detect_backfill`` replays a date range for one tenant. Both first refresh
the KPIs computed from settlement usage for the days they look at, so late usage counts.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from partnerhub.core.beat import beat_slot_claim
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant


@shared_task(name="kpis.drift_tasks.kpi_drift_detect", bind=True, ignore_result=True)
def kpi_drift_detect(self: Any, date_iso: str | None = None) -> int:
    """Nightly fan-out: yesterday (UTC) unless a date is given; returns the tenants queued."""
    day = date.fromisoformat(date_iso) if date_iso else timezone.now().date() - timedelta(days=1)
    if date_iso is None and not beat_slot_claim(
        "kpi_drift_detect", day.isoformat(), owner=self.request.id
    ):
        return 0  # another beat scheduler fired for this day already
    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        kpi_drift_detect_tenant.delay(tenant_id, day.isoformat())
    return len(tenant_ids)


@shared_task(
    name="kpis.drift_tasks.kpi_drift_detect_tenant",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def kpi_drift_detect_tenant(tenant_id: int, date_iso: str) -> int:
    """One tenant, one date (idempotent); returns the number of alerts created."""
    from kpis.services.drift import kpi_drift_detect as detect
    from kpis.services.settlement_usage import REFRESH_DAYS, kpi_settlement_measurements_refresh

    tenant = Tenant.objects.get(pk=tenant_id)
    day = date.fromisoformat(date_iso)
    with tenant_context(tenant):
        kpi_settlement_measurements_refresh(start=day - timedelta(days=REFRESH_DAYS - 1), end=day)
        return len(detect(day=day).created)


@shared_task(name="kpis.drift_tasks.kpi_drift_detect_backfill", acks_late=True)
def kpi_drift_detect_backfill(tenant_id: int, start_iso: str, end_iso: str) -> int:
    """Replay a date range for one tenant, day by day (idempotent)."""
    from kpis.services.drift import kpi_drift_detect_range
    from kpis.services.settlement_usage import REFRESH_DAYS, kpi_settlement_measurements_refresh

    tenant = Tenant.objects.get(pk=tenant_id)
    start, end = date.fromisoformat(start_iso), date.fromisoformat(end_iso)
    with tenant_context(tenant):
        if start <= end:
            kpi_settlement_measurements_refresh(
                start=start - timedelta(days=REFRESH_DAYS - 1), end=end
            )
        runs = kpi_drift_detect_range(start=start, end=end)
    return sum(len(run.created) for run in runs)
