"""Targets: history that is never rewritten, resolution partner > tier > type > default, API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpis.models import KpiDefinition, KpiMeasurement, KpiTarget
from kpis.periods import Period, tenant_today
from kpis.selectors.definitions import kpi_target_for
from kpis.selectors.scorecards import kpi_scorecard
from kpis.services.targets import kpi_target_set
from partnerhub.tenancy.context import tenant_context
from partners.models import PartnerTier
from tests.conftest import bearer, login

pytestmark = pytest.mark.django_db


def test_a_target_change_does_not_alter_a_past_scorecard(personas):
    this_month = Period.containing(tenant_today())
    past = this_month.previous()
    with tenant_context(personas.tenant_a):
        revenue = KpiDefinition.objects.get(key="revenue")
        partner = personas.a_partner
        KpiMeasurement.objects.create(
            partner=partner, kpi=revenue, date=past.start, value=Decimal(90), origin="api"
        )
        # Set when the past month was still current (today = its first day).
        kpi_target_set(
            kpi=revenue,
            partner=partner,
            value=Decimal(100),
            effective_from=past.start,
            today=past.start,
        )
        before = kpi_scorecard(partner=partner, period=past).line("revenue")
        new = kpi_target_set(
            kpi=revenue, partner=partner, value=Decimal(200), effective_from=this_month.start
        )
        after = kpi_scorecard(partner=partner, period=past).line("revenue")
        rows = list(KpiTarget.objects.filter(kpi=revenue).order_by("effective_from"))
        now = kpi_scorecard(partner=partner, period=this_month).line("revenue")
        with pytest.raises(ValidationError, match="past month"):
            kpi_target_set(
                kpi=revenue, partner=partner, value=Decimal(1), effective_from=past.start
            )
    assert (before.target, before.attainment) == (Decimal(100), Decimal("90.0"))
    assert (after.target, after.attainment) == (before.target, before.attainment)
    assert now.target == Decimal(200)
    assert [(r.value, r.effective_from, r.effective_to) for r in rows] == [
        (Decimal(100), past.start, this_month.start),
        (Decimal(200), this_month.start, None),
    ]
    assert new.pk == rows[1].pk


def test_resolution_prefers_partner_then_tier_then_type_then_default(personas):
    month = Period.containing(tenant_today())
    with tenant_context(personas.tenant_a):
        csat = KpiDefinition.objects.get(key="csat")
        gold = PartnerTier.objects.get(name="Gold")
        partner = personas.a_partner
        partner.tier = gold
        partner.save()
        kwargs = {"kpi": csat, "effective_from": month.start}
        kpi_target_set(value=Decimal(1), **kwargs)
        assert kpi_target_for(partner=partner, kpi=csat, period=month).value == 1
        kpi_target_set(value=Decimal(2), partner_type=partner.partner_type, **kwargs)
        assert kpi_target_for(partner=partner, kpi=csat, period=month).scope == "type"
        kpi_target_set(value=Decimal(3), tier=gold, **kwargs)
        assert kpi_target_for(partner=partner, kpi=csat, period=month).value == 3
        kpi_target_set(value=Decimal(4), partner=partner, **kwargs)
        resolved = kpi_target_for(partner=partner, kpi=csat, period=month)
        other = kpi_target_for(partner=personas.a_other_partner, kpi=csat, period=month)
        # Same scope, same day: not judged yet, so it is replaced rather than stacked.
        kpi_target_set(value=Decimal(5), partner=partner, **kwargs)
        replaced = kpi_target_for(partner=partner, kpi=csat, period=month)
        assert KpiTarget.objects.filter(partner=partner).count() == 1
        # A quarter asks for quarterly targets first, else converts a monthly sum target.
        revenue = KpiDefinition.objects.get(key="revenue")
        kpi_target_set(kpi=revenue, value=Decimal(10), effective_from=month.start)
        quarter = Period.containing(month.start, "quarter")
        next_quarter = quarter.next()
        quarterly = kpi_target_for(partner=partner, kpi=revenue, period=next_quarter)
    assert (resolved.value, resolved.scope) == (Decimal(4), "partner")
    assert (other.value, other.scope) == (Decimal(2), "type")
    assert replaced.value == Decimal(5)
    assert quarterly.value == Decimal(30)


def test_targets_api_and_page(personas):
    first = Period.containing(tenant_today()).next().start
    with tenant_context(personas.tenant_a):
        csat = KpiDefinition.objects.get(key="csat").pk
    client = bearer(personas.a_manager, personas.tenant_a)
    url = "/api/v1/kpis/targets/"
    body = {
        "kpi": csat,
        "partner": personas.a_partner.pk,
        "value": "4.1",
        "weight": "2",
        "effective_from": str(first),
    }
    created = client.post(url, body, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert created.json()["scope"] == "partner"
    body["value"] = "4.4"
    body["effective_from"] = str(Period.containing(first).next().start)
    assert client.post(url, body, content_type="application/json").status_code == 201
    listed = client.get(url, {"partner": personas.a_partner.pk}).json()["results"]
    assert [(t["value"], t["effective_to"]) for t in listed] == [
        ("4.400000", None),
        ("4.100000", body["effective_from"]),
    ]
    in_force = client.get(url, {"effective_on": str(first), "kpi_key": "csat"}).json()
    assert [t["value"] for t in in_force["results"]] == ["4.100000"]
    foreign = client.post(
        url, {**body, "partner": personas.b_partner.pk}, content_type="application/json"
    )
    assert foreign.status_code == 400 and "does not exist" in str(foreign.json())
    past = client.post(
        url, {**body, "effective_from": str(date(2020, 1, 1))}, content_type="application/json"
    )
    assert past.status_code == 400 and "effective_from" in past.json()["error"]["details"]
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    assert viewer.post(url, body, content_type="application/json").status_code == 403
    assert bearer(personas.b_manager, personas.tenant_b).get(url).json()["count"] == 0

    page = login(personas.a_manager)
    assert page.get("/kpis/targets/").status_code == 200
    response = page.post(
        "/kpis/targets/",
        {
            "kpi": csat,
            "scope": "default",
            "period_kind": "month",
            "value": "4",
            "weight": "1",
            "effective_from": str(first + timedelta(days=40)),
        },
    )
    assert response.status_code == 302
    assert login(personas.a_viewer).post("/kpis/targets/", {}).status_code == 403
