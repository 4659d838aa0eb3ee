"""Drift alerts: API and pages, workflow, isolation, query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from kpis.models import DriftAlert, KpiDefinition
from kpis.selectors.alerts import drift_alert_open_count
from partnerhub.tenancy.context import tenant_context
from tests.conftest import bearer, login

API = "/api/v1/kpis/alerts/"


def make_alert(partner, kpi, *, day: date = date(2026, 10, 20), **fields) -> DriftAlert:
    values = {
        "partner": partner,
        "kpi": kpi,
        "detected_on": day,
        "kind": DriftAlert.Kind.SHIFT,
        "direction": "up",
        "size": Decimal("1.3"),
        "baseline_value": Decimal("2.1"),
        "recent_value": Decimal("3.4"),
        "explanation": (
            "Complaints per 1,000 rose from 2.1 to 3.4 over the last 9 days; target 2.5."
        ),
    }
    values.update(fields)
    return DriftAlert.objects.create(**values)


def kpi_named(key: str) -> KpiDefinition:
    return KpiDefinition.objects.create(
        key=key, name=key.title(), unit="count", direction="lower_better", aggregation="sum"
    )


@pytest.fixture
def alerts(personas):
    with tenant_context(personas.tenant_a):
        kpi = kpi_named("k2_alerts")
        mine = make_alert(personas.a_partner, kpi)
        other = make_alert(personas.a_other_partner, kpi, kind=DriftAlert.Kind.TARGET_AT_RISK)
    with tenant_context(personas.tenant_b):
        foreign = make_alert(personas.b_partner, kpi_named("k2_alerts"))
    return {"mine": mine, "other": other, "foreign": foreign, "kpi": kpi}


def test_api_lists_only_the_tenants_alerts_and_filters(personas, alerts):
    client = bearer(personas.a_manager, personas.tenant_a)
    body = client.get(API).json()
    ids = {row["id"] for row in body["results"]}
    assert ids == {alerts["mine"].pk, alerts["other"].pk}
    shift = client.get(API, {"kind": "shift"}).json()["results"]
    assert [row["id"] for row in shift] == [alerts["mine"].pk]
    by_partner = client.get(API, {"partner": personas.a_other_partner.pk}).json()["results"]
    assert [row["id"] for row in by_partner] == [alerts["other"].pk]
    assert client.get(API, {"status": "resolved"}).json()["results"] == []
    row = client.get(f"{API}{alerts['mine'].pk}/").json()
    assert row["explanation"].startswith("Complaints per 1,000 rose from 2.1 to 3.4")
    assert row["kpi_key"] == "k2_alerts"


def test_another_tenants_alert_answers_like_a_missing_one(personas, alerts):
    client = bearer(personas.a_manager, personas.tenant_a)
    foreign = alerts["foreign"].pk
    assert client.get(f"{API}{foreign}/").status_code == 404
    assert client.post(f"{API}{foreign}/acknowledge/").status_code == 404
    assert login(personas.a_manager).get(f"/kpis/alerts/{foreign}/").status_code == 404
    assert login(personas.a_manager).post(f"/kpis/alerts/{foreign}/acknowledge/").status_code == 404
    with tenant_context(personas.tenant_b):
        assert DriftAlert.objects.get().status == DriftAlert.Status.OPEN


def test_manager_acknowledges_then_resolves_with_notes(personas, alerts):
    client = bearer(personas.a_manager, personas.tenant_a)
    alert = alerts["mine"]
    response = client.post(
        f"{API}{alert.pk}/acknowledge/",
        {"note": "Called the partner"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"
    assert response.json()["owner"] == personas.a_manager.pk
    assert "Called the partner" in response.json()["notes"]
    again = client.post(f"{API}{alert.pk}/acknowledge/")
    assert again.status_code == 400
    assert "Only an open alert" in str(again.json())
    resolved = client.post(
        f"{API}{alert.pk}/resolve/", {"note": "Fixed"}, content_type="application/json"
    )
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"]


def test_owner_must_be_a_member_of_the_tenant(personas, alerts):
    client = bearer(personas.a_manager, personas.tenant_a)
    url = f"{API}{alerts['mine'].pk}/update/"
    ok = client.post(url, {"owner": personas.a_finance.pk}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["owner"] == personas.a_finance.pk
    foreign = client.post(url, {"owner": personas.b_manager.pk}, content_type="application/json")
    assert foreign.status_code == 400
    partner_user = client.post(
        url, {"owner": personas.a_partner_user.pk}, content_type="application/json"
    )
    assert partner_user.status_code == 400
    cleared = client.post(
        url, {"owner": None, "note": "Unassigned"}, content_type="application/json"
    )
    assert cleared.json()["owner"] is None and "Unassigned" in cleared.json()["notes"]


def test_viewer_sees_alerts_but_changes_nothing(personas, alerts):
    alert = alerts["mine"]
    api = bearer(personas.a_viewer, personas.tenant_a)
    assert api.get(API).status_code == 200
    assert api.post(f"{API}{alert.pk}/acknowledge/").status_code == 403
    assert api.post(f"{API}{alert.pk}/resolve/").status_code == 403
    page = login(personas.a_viewer)
    detail = page.get(f"/kpis/alerts/{alert.pk}/")
    assert detail.status_code == 200
    assert b'data-testid="alert-acknowledge"' not in detail.content
    assert page.post(f"/kpis/alerts/{alert.pk}/acknowledge/").status_code in (302, 403)
    with tenant_context(personas.tenant_a):
        alert.refresh_from_db()
    assert alert.status == DriftAlert.Status.OPEN


def test_partner_users_cannot_reach_csp_alerts(personas, alerts):
    assert login(personas.a_partner_user).get("/kpis/alerts/").status_code in (302, 403)
    assert bearer(personas.a_partner_user, personas.tenant_a).get(API).status_code == 403


def test_pages_list_filter_and_acknowledge(personas, alerts):
    client = login(personas.a_manager)
    listing = client.get("/kpis/alerts/")
    assert listing.status_code == 200
    assert listing.content.count(b'data-testid="alert-row"') == 2
    filtered = client.get("/kpis/alerts/", {"kind": "target_at_risk"})
    assert filtered.content.count(b'data-testid="alert-row"') == 1
    alert = alerts["mine"]
    response = client.post(f"/kpis/alerts/{alert.pk}/acknowledge/", {"note": "On it"})
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert b"Acknowledged" in detail.content and b"On it" in detail.content
    with tenant_context(personas.tenant_a):
        alert.refresh_from_db()
    assert alert.status == DriftAlert.Status.ACKNOWLEDGED


def test_open_count_for_the_dashboard(personas, alerts):
    with tenant_context(personas.tenant_a):
        assert drift_alert_open_count() == 2
        assert drift_alert_open_count(partner=personas.a_partner) == 1
        DriftAlert.objects.filter(pk=alerts["mine"].pk).update(status=DriftAlert.Status.RESOLVED)
        assert drift_alert_open_count() == 1


def _grow(personas, kpi, n: int) -> None:
    with tenant_context(personas.tenant_a):
        start = date(2026, 1, 1)
        for i in range(n):
            make_alert(
                personas.a_partner if i % 2 else personas.a_other_partner,
                kpi,
                day=start + timedelta(days=i),
                owner=personas.a_manager,
            )


def test_list_query_counts_do_not_grow_with_rows(personas, alerts, django_assert_max_num_queries):
    api = bearer(personas.a_manager, personas.tenant_a)
    page = login(personas.a_manager)
    api.get(API)
    page.get("/kpis/alerts/")  # warm sessions and caches
    with django_assert_max_num_queries(12) as small_api:
        assert api.get(API).status_code == 200
    with django_assert_max_num_queries(16) as small_page:
        assert page.get("/kpis/alerts/").status_code == 200
    _grow(personas, alerts["kpi"], 30)
    with django_assert_max_num_queries(len(small_api.captured_queries)):
        assert len(api.get(API).json()["results"]) >= 30
    with django_assert_max_num_queries(len(small_page.captured_queries)):
        assert page.get("/kpis/alerts/").content.count(b'data-testid="alert-row"') == 32


def test_partner_page_card_shows_only_that_partners_open_alerts(personas, alerts):
    client = login(personas.a_manager)
    card = client.get(f"/kpis/partners/{personas.a_partner.pk}/summary/").content.decode()
    assert f"/kpis/alerts/{alerts['mine'].pk}/" in card
    assert f"/kpis/alerts/{alerts['other'].pk}/" not in card
    with tenant_context(personas.tenant_a):
        DriftAlert.objects.filter(pk=alerts["mine"].pk).update(status=DriftAlert.Status.RESOLVED)
    card = client.get(f"/kpis/partners/{personas.a_partner.pk}/summary/").content.decode()
    assert 'data-testid="partner-kpi-no-alerts"' in card
    assert client.get(f"/kpis/partners/{personas.b_partner.pk}/summary/").status_code == 404
    portal = login(personas.a_partner_user)
    assert portal.get(f"/kpis/partners/{personas.a_partner.pk}/summary/").status_code == 403
