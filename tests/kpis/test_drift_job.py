"""The nightly drift job on real rows: alerts, explanations, idempotence, backfill, dedup."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command

from kpis.models import DriftAlert, KpiDefinition, KpiMeasurement, KpiTarget
from kpis.services.drift import DEDUP_DAYS, kpi_drift_detect, kpi_drift_detect_range
from partnerhub.tenancy.context import require_current_tenant, tenant_context
from partners.models import Notification

DAY = date(2026, 10, 20)


def definition(key: str, **fields) -> KpiDefinition:
    defaults = {
        "name": key.replace("_", " ").capitalize(),
        "unit": "count",
        "direction": "lower_better",
        "aggregation": "sum",
    }
    defaults.update(fields)
    return KpiDefinition.objects.create(key=key, **defaults)


def series(partner, kpi, values, *, end: date = DAY) -> None:
    """Daily values ending on ``end`` (NaN: no row that day)."""
    first = end - timedelta(days=len(values) - 1)
    tenant = require_current_tenant()
    KpiMeasurement.objects.bulk_create(
        KpiMeasurement(
            tenant=tenant,
            partner=partner,
            kpi=kpi,
            date=first + timedelta(days=i),
            value=Decimal(f"{v:.2f}"),
            origin="api",
        )
        for i, v in enumerate(values)
        if not np.isnan(v)
    )


def noisy(n: int, level: float, sigma: float, seed: int, step_at: int | None = None, step=0.0):
    rng = np.random.default_rng(seed)
    values = level + rng.normal(0, sigma, n)
    if step_at is not None:
        values[step_at:] += step
    return values


@pytest.fixture
def drifting(personas):
    """Tenant A: Acme's complaints jump by 4 sigma 9 days before DAY; Other stays flat."""
    with tenant_context(personas.tenant_a):
        personas.a_partner.account_owner = personas.a_manager
        personas.a_partner.save(update_fields=["account_owner"])
        kpi = definition("k2_complaints", name="Complaints")
        series(personas.a_partner, kpi, noisy(120, 20, 2, seed=1, step_at=111, step=8))
        series(personas.a_other_partner, kpi, noisy(120, 20, 2, seed=2))
    with tenant_context(personas.tenant_b):
        kpi_b = definition("k2_complaints", name="Complaints")
        series(personas.b_partner, kpi_b, noisy(120, 20, 2, seed=3, step_at=111, step=8))
    return kpi


def test_a_planted_shift_becomes_one_explained_alert(personas, drifting):
    with tenant_context(personas.tenant_a):
        run = kpi_drift_detect(day=DAY)
        alerts = list(DriftAlert.objects.all())
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.partner_id == personas.a_partner.pk
    assert alert.kind == DriftAlert.Kind.SHIFT
    assert alert.direction == "up"
    assert Decimal("19") < alert.baseline_value < Decimal("21")
    assert Decimal("26") < alert.recent_value < Decimal("30")
    assert alert.change_started_on is not None
    assert abs((alert.change_started_on - (DAY - timedelta(days=8))).days) <= 2
    assert alert.explanation.startswith(
        "Complaints rose from 19.8 to 28.1 a day over the last 9 days"
    )
    assert "a day over the last" in alert.explanation
    assert alert.owner == personas.a_manager
    assert run.series == 2 and len(run.created) == 1
    with tenant_context(personas.tenant_a):
        note = Notification.objects.get(dedup_key=f"drift:{alert.pk}")
    assert note.user == personas.a_manager
    assert note.url == f"/kpis/alerts/{alert.pk}/"


def test_running_a_date_twice_creates_no_duplicates(personas, drifting):
    with tenant_context(personas.tenant_a):
        kpi_drift_detect(day=DAY)
        first = list(DriftAlert.objects.values_list("pk", "partner", "kind", "detected_on"))
        again = kpi_drift_detect(day=DAY)
        second = list(DriftAlert.objects.values_list("pk", "partner", "kind", "detected_on"))
        notes = Notification.objects.filter(dedup_key__startswith="drift:").count()
    assert first == second
    assert again.created == []
    assert notes == 1


def test_an_ongoing_shift_is_not_realerted_while_the_alert_is_open(personas, drifting):
    with tenant_context(personas.tenant_a):
        series(personas.a_partner, drifting, noisy(5, 28, 2, seed=9), end=DAY + timedelta(days=5))
        kpi_drift_detect(day=DAY)
        for offset in range(1, 6):
            assert kpi_drift_detect(day=DAY + timedelta(days=offset)).created == []
        # Once resolved, a shift still present is reported again the next night.
        DriftAlert.objects.update(status=DriftAlert.Status.RESOLVED)
        assert len(kpi_drift_detect(day=DAY + timedelta(days=5)).created) == 1
    assert DEDUP_DAYS == 14


def test_backfill_runs_day_by_day_and_is_idempotent(personas, drifting):
    with tenant_context(personas.tenant_a):
        runs = kpi_drift_detect_range(start=DAY - timedelta(days=12), end=DAY)
        assert len(runs) == 13
        rows = list(DriftAlert.objects.values_list("partner", "kind", "detected_on"))
        kpi_drift_detect_range(start=DAY - timedelta(days=12), end=DAY)
        assert list(DriftAlert.objects.values_list("partner", "kind", "detected_on")) == rows
    # One alert for the one shift, on the first night it showed (a few days after the jump).
    assert len(rows) == 1
    assert DAY - timedelta(days=9) <= rows[0][2] <= DAY - timedelta(days=3)


def test_the_job_sees_only_the_active_tenants_series(personas, drifting):
    with tenant_context(personas.tenant_a):
        kpi_drift_detect(day=DAY)
    with tenant_context(personas.tenant_b):
        assert DriftAlert.objects.count() == 0
        kpi_drift_detect(day=DAY)
        assert list(DriftAlert.objects.values_list("partner", flat=True)) == [personas.b_partner.pk]
    with tenant_context(personas.tenant_a):
        assert DriftAlert.objects.count() == 1


def test_gaps_are_not_zeros(personas):
    with tenant_context(personas.tenant_a):
        kpi = definition("k2_revenue", name="Revenue", direction="higher_better")
        values = noisy(120, 1000, 50, seed=4)
        values[np.random.default_rng(5).random(120) < 0.3] = np.nan  # 30% of days missing
        series(personas.a_partner, kpi, values)
        assert kpi_drift_detect(day=DAY).created == []


def test_short_history_is_not_judged(personas):
    with tenant_context(personas.tenant_a):
        kpi = definition("k2_short", drift_min_history_days=60)
        series(personas.a_partner, kpi, noisy(70, 20, 2, seed=6, step_at=60, step=10))
        assert kpi_drift_detect(day=DAY).created == []


def test_a_revenue_behind_target_is_at_risk(personas):
    with tenant_context(personas.tenant_a):
        kpi = definition(
            "k2_sales", name="Revenue", unit="currency", currency="EUR", direction="higher_better"
        )
        # 1,000 a day: October projects to 31,000 against a monthly target of 40,000.
        series(personas.a_partner, kpi, noisy(120, 1000, 20, seed=7))
        KpiTarget.objects.create(kpi=kpi, value=Decimal("40000"), effective_from=date(2026, 1, 1))
        # The other partner has its own target, which it meets.
        series(personas.a_other_partner, kpi, noisy(120, 1000, 20, seed=8))
        KpiTarget.objects.create(
            kpi=kpi,
            partner=personas.a_other_partner,
            value=Decimal("30000"),
            effective_from=date(2026, 1, 1),
        )
        run = kpi_drift_detect(day=DAY)
        alerts = [a for a in run.created if a.kind == DriftAlert.Kind.TARGET_AT_RISK]
    assert [a.partner_id for a in alerts] == [personas.a_partner.pk]
    alert = alerts[0]
    assert alert.direction == "down"
    assert alert.target_value == Decimal("40000")
    assert Decimal("30000") < alert.recent_value < Decimal("32000")
    assert alert.explanation.startswith("Revenue is on pace for EUR 3")
    assert "this month against a target of EUR 40,000 (2" in alert.explanation


def test_a_ratio_kpi_is_computed_from_its_operands(personas):
    with tenant_context(personas.tenant_a):
        complaints = definition("k2_c", name="Complaints", drift_enabled=False)
        subscribers = definition(
            "k2_s", name="Subscribers", aggregation="last", drift_enabled=False
        )
        definition(
            "k2_cp1000",
            name="Complaints per 1,000",
            unit="ratio",
            aggregation="ratio",
            numerator=complaints,
            denominator=subscribers,
            scale=Decimal(1000),
        )
        # 21 complaints a day among 310,000 subscribers: 2.1 per 1,000 over October's 31 days,
        # the unit of the monthly target and of the scorecard (not the daily 0.07).
        series(personas.a_partner, subscribers, np.full(120, 310_000.0))
        series(personas.a_partner, complaints, noisy(120, 21, 1.5, seed=10, step_at=111, step=13))
        KpiTarget.objects.create(
            kpi=KpiDefinition.objects.get(key="k2_cp1000"),
            value=Decimal("2.5"),
            effective_from=date(2026, 1, 1),
        )
        run = kpi_drift_detect(day=DAY)
    shifts = [a for a in run.created if a.kind == DriftAlert.Kind.SHIFT]
    assert len(shifts) == 1
    text = shifts[0].explanation
    assert re.fullmatch(
        r"Complaints per 1,000 rose from 2\.[01] to 3\.[3-5] a month over the last \d+ days; "
        r"target 2\.5\.",
        text,
    )
    # At this pace the month ends above the target of 2.5: at risk, in the same unit.
    at_risk = [a for a in run.created if a.kind == DriftAlert.Kind.TARGET_AT_RISK]
    assert len(at_risk) == 1 and at_risk[0].direction == "up"
    assert Decimal("2.5") < at_risk[0].recent_value < Decimal("3.5")


def test_management_command_runs_a_date_for_one_tenant(personas, drifting):
    call_command("kpi_drift_detect", "--date", DAY.isoformat(), "--tenant", "alpha")
    with tenant_context(personas.tenant_a):
        assert DriftAlert.objects.count() == 1
    with tenant_context(personas.tenant_b):
        assert DriftAlert.objects.count() == 0


def test_nightly_task_fans_out_one_task_per_active_tenant(personas, monkeypatch):
    from kpis import drift_tasks

    queued: list[tuple[int, str]] = []
    monkeypatch.setattr(
        drift_tasks.kpi_drift_detect_tenant, "delay", lambda *args: queued.append(args)
    )
    personas.tenant_b.is_active = False
    personas.tenant_b.save(update_fields=["is_active"])
    assert drift_tasks.kpi_drift_detect(DAY.isoformat()) >= 1
    assert (personas.tenant_a.pk, DAY.isoformat()) in queued
    assert all(tenant_id != personas.tenant_b.pk for tenant_id, _ in queued)


def test_tenant_task_and_backfill_task_run_inside_the_tenant(personas, drifting):
    from kpis import drift_tasks

    assert drift_tasks.kpi_drift_detect_tenant(personas.tenant_a.pk, DAY.isoformat()) == 1
    assert drift_tasks.kpi_drift_detect_tenant(personas.tenant_a.pk, DAY.isoformat()) == 0
    start = (DAY - timedelta(days=3)).isoformat()
    assert drift_tasks.kpi_drift_detect_backfill(personas.tenant_b.pk, start, DAY.isoformat()) == 1
    with tenant_context(personas.tenant_b):
        assert DriftAlert.objects.count() == 1
