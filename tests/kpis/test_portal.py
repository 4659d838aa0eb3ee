"""Portal: a partner user sees only its own scorecard and reports partner-reported KPIs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from kpis.models import KpiMeasurement
from kpis.periods import tenant_today
from partnerhub.tenancy.context import tenant_context
from tests.conftest import login

pytestmark = pytest.mark.django_db

URL = "/portal/kpis/"


def test_partner_reports_a_value_and_sees_its_scorecard(personas):
    client = login(personas.a_partner_user)
    page = client.get(URL)
    assert page.status_code == 200
    assert page.context["card"].partner == personas.a_partner
    choices = {
        str(k) for k in page.context["form"].fields["kpi"].queryset.values_list("key", flat=True)
    }
    assert choices == {"complaints", "csat", "availability"}
    with tenant_context(personas.tenant_a):
        csat = page.context["form"].fields["kpi"].queryset.get(key="csat").pk
        revenue = page.context["card"].line("revenue").kpi.pk
    day = tenant_today() - timedelta(days=1)
    response = client.post(URL, {"kpi": csat, "date": day, "value": "4.6"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.context["card"].line("csat").actual is not None or day.month != tenant_today().month
    # Not partner-reported, or in the future: refused, nothing written.
    assert client.post(URL, {"kpi": revenue, "date": day, "value": "1"}).status_code == 400
    future = client.post(
        URL, {"kpi": csat, "date": tenant_today() + timedelta(days=2), "value": "4"}
    )
    assert future.status_code == 400 and "out of range" in future.content.decode()
    with tenant_context(personas.tenant_a):
        stored = list(KpiMeasurement.objects.values_list("partner_id", "origin", "value"))
    assert len(stored) == 1 and stored[0][:2] == (personas.a_partner.pk, "portal")


def test_portal_is_for_partner_users_only(personas):
    assert login(personas.a_manager).get(URL).status_code in (302, 403)
    assert login(personas.a_partner_user).get("/kpis/").status_code in (302, 403)
    assert login(personas.a_partner_user).get(
        f"/kpis/partners/{personas.a_other_partner.pk}/"
    ).status_code in (302, 403)


def test_portal_navigation_links_to_the_kpi_page(personas):
    # base.html reverses "kpis_portal:scorecard" for the portal's KPIs menu entry.
    page = login(personas.a_partner_user).get(URL)
    assert reverse("kpis_portal:scorecard") == URL
    assert f'href="{URL}"'.encode() in page.content
