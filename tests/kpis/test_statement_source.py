"""KPIs from the partner's statement history: approved and paid statements fill a monthly value;
drafts do not; a statement that leaves approved (disputed) takes its value away; currencies and
tenants stay apart; definition checks; the demo's settled revenue KPI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from kpis.models import KpiDefinition, KpiMeasurement
from kpis.periods import Period
from kpis.selectors.scorecards import kpi_scorecard
from kpis.services.definitions import kpi_definition_create
from kpis.services.settlement_usage import (
    kpi_settlement_measurements_refresh,
    kpi_statement_measurements_refresh,
)
from partnerhub.tenancy.context import tenant_context
from settlements.models import Statement
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.settlements.engine_helpers import PCT30, assign, make_plan, usage

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)


def revenue_kpi(measure="statement_partner_share", currency="EUR", key="settled"):
    return kpi_definition_create(
        key=key,
        name=key,
        unit="currency",
        currency=currency,
        direction="higher_better",
        aggregation="sum",
        source="settlement",
        settlement_measure=measure,
    )


def values(kpi):
    return dict(KpiMeasurement.objects.filter(kpi=kpi).values_list("date", "value"))


def settle(month):
    settlement_run_execute(run=settlement_run_start(month=month, enqueue=False))


@pytest.fixture
def history(personas, as_tenant_a):
    a = personas.a_partner
    assign(a, make_plan())
    usage(a, "music", "100.00", when="2026-09-10T10:00:00+00:00")
    usage(a, "music", "200.00", when="2026-10-10T10:00:00+00:00")
    assign(personas.a_other_partner, make_plan({**PCT30, "currency": "USD"}))
    usage(personas.a_other_partner, "music", "50.00", currency="USD")
    settle(SEP)
    settle(OCT)
    return personas


def test_approved_and_paid_statements_fill_a_monthly_value_drafts_do_not(history):
    share, basis = revenue_kpi(), revenue_kpi("statement_basis", key="basis")
    assert kpi_settlement_measurements_refresh(start=OCT, end=date(2026, 10, 31)) == 0
    september = Statement.objects.filter(partner=history.a_partner, month=SEP)
    september.update(status="approved")  # the database allows only draft → approved → paid
    september.update(status="paid")
    Statement.objects.filter(partner=history.a_partner, month=OCT).update(status="approved")
    Statement.objects.filter(partner=history.a_other_partner).update(status="approved")  # USD
    kpi_settlement_measurements_refresh(start=OCT, end=date(2026, 10, 31))
    assert values(share) == {SEP: D("30.00"), OCT: D("60.00")}
    assert values(basis) == {SEP: D("100.00"), OCT: D("200.00")}
    rows = KpiMeasurement.objects.filter(kpi=share)
    assert {m.partner_id for m in rows} == {history.a_partner.pk}  # the USD statement: not EUR
    assert {m.origin for m in rows} == {"settlement"}
    # Idempotent; a disputed statement no longer counts.
    assert kpi_settlement_measurements_refresh(start=OCT, end=date(2026, 10, 31)) == 0
    Statement.objects.filter(partner=history.a_partner, month=OCT).update(status="disputed")
    kpi_statement_measurements_refresh(month=OCT)
    assert values(share) == {SEP: D("30.00")}


def test_the_scorecard_shows_the_settled_revenue(history):
    kpi = revenue_kpi()
    Statement.objects.filter(partner=history.a_partner).update(status="approved")
    kpi_statement_measurements_refresh(month=SEP)
    kpi_statement_measurements_refresh(month=OCT)
    quarter = kpi_scorecard(partner=history.a_partner, period=Period.quarter(2026, 3))
    assert quarter.line(kpi.key).actual == D("30.00")
    month = kpi_scorecard(partner=history.a_partner, period=Period.month(2026, 10))
    assert month.line(kpi.key).actual == D("60.00")


def test_other_tenants_statements_never_feed_this_tenants_kpi(history):
    kpi = revenue_kpi()
    with tenant_context(history.tenant_b):
        assign(history.b_partner, make_plan())
        usage(history.b_partner, "music", "1000.00")
        settle(OCT)
        Statement.objects.update(status="approved")
    kpi_settlement_measurements_refresh(start=OCT, end=date(2026, 10, 31))
    assert not KpiMeasurement.objects.filter(kpi=kpi).exists()


def test_statement_measures_need_a_currency_and_no_product(personas, as_tenant_a):
    with pytest.raises(ValidationError) as err:
        kpi_definition_create(
            key="x",
            name="x",
            unit="count",
            direction="higher_better",
            aggregation="sum",
            source="settlement",
            settlement_measure="statement_partner_share",
        )
    assert "currency" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        kpi_definition_create(
            key="y",
            name="y",
            unit="currency",
            currency="EUR",
            direction="higher_better",
            aggregation="sum",
            source="settlement",
            settlement_measure="statement_basis",
            settlement_product_code="music",
        )
    assert "settlement_product_code" in err.value.message_dict


def test_the_settlement_demo_adds_a_settled_revenue_kpi(db):
    from settlements import demo_plans, demo_usage
    from tests.factories import TenantFactory
    from tests.partners.factories import PartnerFactory

    demo = TenantFactory(slug="demo", name="Demo", timezone="Europe/Berlin")
    with tenant_context(demo):
        PartnerFactory.create_batch(3)
        demo_usage.load(demo)
        demo_plans.load(demo)
        kpi = KpiDefinition.objects.get(key="settled_revenue")
        assert kpi.settlement_measure == "statement_partner_share"
        assert not KpiMeasurement.objects.filter(kpi=kpi).exists()  # drafts only so far
        first = Statement.objects.order_by("month").first()
        Statement.objects.filter(month=first.month).update(status="approved")
        kpi_statement_measurements_refresh(month=first.month)
        expected = {
            s.partner_id: s.partner_share
            for s in Statement.objects.filter(month=first.month, currency=kpi.currency)
        }
        got = dict(KpiMeasurement.objects.filter(kpi=kpi).values_list("partner_id", "value"))
        assert got == expected and got
        demo_plans.load(demo)  # idempotent
        assert KpiDefinition.objects.filter(key="settled_revenue").count() == 1
