"""KPI test data: measurements on consecutive days and targets (inside tenant_context)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kpis.models import KpiDefinition, KpiMeasurement, KpiTarget


def put(partner, key: str, start: date, values: list[str]) -> None:
    """``values`` of the KPI ``key`` for ``partner``, one a day from ``start``."""
    kpi = KpiDefinition.objects.get(key=key)
    KpiMeasurement.objects.bulk_create(
        KpiMeasurement(
            partner=partner,
            kpi=kpi,
            date=start + timedelta(days=i),
            value=Decimal(v),
            origin="api",
            tenant=partner.tenant,
        )
        for i, v in enumerate(values)
    )


def target(key: str, value: str, start: date, weight: str = "1", **scope) -> KpiTarget:
    return KpiTarget.objects.create(
        kpi=KpiDefinition.objects.get(key=key),
        value=Decimal(value),
        effective_from=start,
        weight=Decimal(weight),
        **scope,
    )
