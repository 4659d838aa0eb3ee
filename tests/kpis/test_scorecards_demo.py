"""The KPI demo data: a year of values, targets changed mid-year, planted drifts; idempotent."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from kpis.demo import load_kpi_demo
from kpis.models import KpiMeasurement, KpiTarget
from kpis.periods import Period, tenant_today
from kpis.selectors.scorecards import kpi_scorecard
from partnerhub.tenancy.context import tenant_context
from partners.models import PartnerType
from tests.factories import TenantFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def test_demo_loader_plants_drifts_and_is_idempotent(monkeypatch):
    import kpis.demo

    monkeypatch.setattr(kpis.demo, "_detect_drift", lambda today: None)  # K2's job, tested there
    tenant = TenantFactory(slug="demo", name="Demo")
    with tenant_context(tenant):
        types = {t.key: t for t in PartnerType.objects.all()}
        stream = PartnerFactory(legal_name="StreamWave Media GmbH", trading_name="StreamWave Media")
        reseller = PartnerFactory(legal_name="Shop Co", partner_type=types["channel_partner"])
        PartnerFactory(legal_name="Tower Co", partner_type=types["infrastructure_provider"])
        PartnerFactory(legal_name="Gone Co", status="exited")
        started = time.monotonic()
        load_kpi_demo(tenant)
        elapsed = time.monotonic() - started
        count = KpiMeasurement.objects.count()
        load_kpi_demo(tenant)
        assert KpiMeasurement.objects.count() == count
        assert not KpiMeasurement.objects.filter(partner__legal_name="Gone Co").exists()
        today = tenant_today()
        assert KpiMeasurement.objects.filter(date=today).exists()
        assert KpiMeasurement.objects.filter(date=today - timedelta(days=364)).exists()
        closed = KpiTarget.objects.filter(effective_to__isnull=False).count()
        assert closed and closed == KpiTarget.objects.filter(effective_to__isnull=True).count()

        def mean(partner, key, start, end):
            values = KpiMeasurement.objects.filter(
                partner=partner, kpi__key=key, date__gte=start, date__lt=end
            ).values_list("value", flat=True)
            return sum(values) / len(values)

        recent = mean(stream, "complaints", today - timedelta(days=7), today + timedelta(days=1))
        before = mean(stream, "complaints", today - timedelta(days=90), today - timedelta(days=30))
        assert recent > before * Decimal("1.5")
        month = Period.containing(today).previous() if today.day < 10 else Period.containing(today)
        revenue = kpi_scorecard(partner=reseller, period=month).line("revenue")
        assert revenue.status == "red"
    assert count > 3 * 300 * 4 and elapsed < 10
