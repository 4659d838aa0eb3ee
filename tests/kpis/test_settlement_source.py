"""KPIs computed from settlement usage: definition checks, the SQL refresh, the nightly job."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpis.models import KpiDefinition, KpiMeasurement
from kpis.services.definitions import kpi_definition_create
from kpis.services.measurements import MeasurementRowsInvalid, kpi_measurements_ingest
from kpis.services.settlement_usage import kpi_settlement_measurements_refresh
from partnerhub.tenancy.context import tenant_context
from settlements.models import Product
from settlements.services.usage_import import usage_bulk_ingest

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 5)


def usage(partner: int, ext: str, *, day: date = DAY, **over: str) -> dict[str, object]:
    row: dict[str, object] = {
        "partner": partner,
        "product_code": "sms",
        "event_time": f"{day.isoformat()}T10:00:00Z",
        "quantity": "2",
        "gross_amount": "10.00",
        "tax_amount": "1.50",
        "currency": "EUR",
        "external_id": ext,
    }
    row.update(over)
    return row


def settlement_kpi(key: str, measure: str, **fields: object) -> KpiDefinition:
    defaults: dict[str, object] = {
        "key": key,
        "name": key,
        "unit": "count",
        "direction": "higher_better",
        "aggregation": "sum",
        "source": "settlement",
        "settlement_measure": measure,
    }
    defaults.update(fields)
    return kpi_definition_create(**defaults)


@pytest.fixture
def usage_rows(personas):
    for tenant in (personas.tenant_a, personas.tenant_b):
        with tenant_context(tenant):
            for code in ("sms", "data"):
                Product.objects.create(tenant=tenant, code=code, name=code)
    with tenant_context(personas.tenant_b):
        usage_bulk_ingest(rows=[usage(personas.b_partner.pk, "B1", gross_amount="999")])
    with tenant_context(personas.tenant_a):
        usage_import, errors = usage_bulk_ingest(
            rows=[
                usage(personas.a_partner.pk, "A1"),
                usage(personas.a_partner.pk, "A2", gross_amount="5.00", tax_amount="0"),
                usage(personas.a_partner.pk, "A3", product_code="data", quantity="7"),
                usage(personas.a_partner.pk, "A4", currency="USD", gross_amount="100"),
                usage(personas.a_partner.pk, "A5", day=DAY + timedelta(days=1)),
                usage(personas.a_other_partner.pk, "A6"),
            ]
        )
        assert not errors and usage_import.inserted == 6


def values(key: str) -> dict[tuple[int, date], Decimal]:
    return {
        (m.partner_id, m.date): m.value
        for m in KpiMeasurement.objects.filter(kpi__key=key, origin="settlement")
    }


def test_a_settlement_kpi_needs_a_measure_and_amounts_a_currency(personas):
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError) as no_measure:
            settlement_kpi("usage_events", "")
        assert "settlement_measure" in no_measure.value.message_dict
        with pytest.raises(ValidationError) as no_currency:
            settlement_kpi("usage_revenue", "gross_amount")
        assert "currency" in no_currency.value.message_dict
        manual = kpi_definition_create(
            key="manual",
            name="Manual",
            unit="count",
            direction="higher_better",
            aggregation="sum",
            settlement_measure="records",
        )
        assert manual.settlement_measure == ""  # only settlement-sourced KPIs keep it


def test_refresh_sums_each_days_usage_per_partner_and_is_idempotent(personas, usage_rows):
    with tenant_context(personas.tenant_a):
        settlement_kpi("usage_gross", "gross_amount", unit="currency", currency="EUR")
        settlement_kpi("usage_net", "net_amount", unit="currency", currency="EUR")
        settlement_kpi("sms_quantity", "quantity", settlement_product_code="sms")
        settlement_kpi("usage_records", "records")
        assert kpi_settlement_measurements_refresh(start=DAY, end=DAY) == 8
        a, other = personas.a_partner.pk, personas.a_other_partner.pk
        # EUR only (the USD record is another currency); every product.
        assert values("usage_gross") == {(a, DAY): Decimal("25"), (other, DAY): Decimal("10")}
        assert values("usage_net")[(a, DAY)] == Decimal("22")
        assert values("sms_quantity")[(a, DAY)] == Decimal("6")  # not the data product's 7
        assert values("usage_records")[(a, DAY)] == 4
        assert (a, DAY + timedelta(days=1)) not in values("usage_records")  # outside the range
        # Nothing changed: nothing rewritten.
        assert kpi_settlement_measurements_refresh(start=DAY, end=DAY) == 0
        # Late usage is picked up by the next refresh.
        usage_bulk_ingest(rows=[usage(a, "A7", gross_amount="1.00")])
        assert kpi_settlement_measurements_refresh(start=DAY, end=DAY + timedelta(days=1)) >= 2
        assert values("usage_gross")[(a, DAY)] == Decimal("26")
        assert values("usage_records")[(a, DAY + timedelta(days=1))] == 1
    with tenant_context(personas.tenant_b):
        assert not KpiMeasurement.objects.exists()  # tenant B has no settlement KPI


def test_settlement_kpis_cannot_be_submitted(personas):
    with tenant_context(personas.tenant_a):
        settlement_kpi("usage_records", "records")
        with pytest.raises(MeasurementRowsInvalid) as refused:
            kpi_measurements_ingest(
                rows=[
                    {
                        "partner": str(personas.a_partner.pk),
                        "kpi": "usage_records",
                        "date": "2026-10-01",
                        "value": "3",
                    }
                ],
                origin="api",
            )
        assert "computed from settlement usage" in refused.value.rows[0]["message"]
        assert not KpiMeasurement.objects.exists()


def test_the_nightly_tenant_task_refreshes_settlement_kpis_first(personas, usage_rows):
    from kpis import drift_tasks

    with tenant_context(personas.tenant_a):
        settlement_kpi("usage_records", "records")
    drift_tasks.kpi_drift_detect_tenant(personas.tenant_a.pk, (DAY + timedelta(days=1)).isoformat())
    with tenant_context(personas.tenant_a):
        found = values("usage_records")
    assert found[(personas.a_partner.pk, DAY)] == 4
    assert found[(personas.a_partner.pk, DAY + timedelta(days=1))] == 1
