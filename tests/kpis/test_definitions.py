"""KPI definitions: the starter catalogue, the API, isolation and roles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpis.models import Aggregation, KpiDefinition
from kpis.services.setup import STARTER_CATALOGUE, kpi_catalogue_setup
from partnerhub.tenancy.context import tenant_context
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/kpis/definitions/"


def test_every_tenant_gets_the_starter_catalogue(personas):
    with tenant_context(personas.tenant_a):
        keys = set(KpiDefinition.objects.values_list("key", flat=True))
        arpu = KpiDefinition.objects.select_related("numerator", "denominator").get(key="arpu")
        per_1000 = KpiDefinition.objects.get(key="complaints_per_1000")
    assert keys == {row[0] for row in STARTER_CATALOGUE}
    assert arpu.aggregation == Aggregation.RATIO
    assert (arpu.numerator.key, arpu.denominator.key) == ("revenue", "active_subscribers")
    assert per_1000.scale == Decimal(1000) and per_1000.direction == "lower_better"


def test_catalogue_setup_is_idempotent_and_keeps_edits(personas):
    with tenant_context(personas.tenant_a):
        KpiDefinition.objects.filter(key="csat").update(name="Happiness")
        kpi_catalogue_setup(personas.tenant_a)
        assert KpiDefinition.objects.count() == len(STARTER_CATALOGUE)
        assert KpiDefinition.objects.get(key="csat").name == "Happiness"


def test_list_shows_only_own_tenant(personas):
    with tenant_context(personas.tenant_b):
        KpiDefinition.objects.filter(key="csat").update(name="Bravo CSAT")
    response = bearer(personas.a_viewer, personas.tenant_a).get(URL + "?page_size=100")
    assert response.status_code == 200
    names = [d["name"] for d in response.json()["results"]]
    assert "Bravo CSAT" not in names and "Customer satisfaction (CSAT)" in names


def test_manager_creates_and_edits_a_definition(personas):
    client = bearer(personas.a_manager, personas.tenant_a)
    response = client.post(
        URL,
        {
            "key": "nps",
            "name": "Net promoter score",
            "unit": "score",
            "direction": "higher_better",
            "aggregation": "mean",
            "partner_reported": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    kpi_id = response.json()["id"]
    response = client.patch(
        f"{URL}{kpi_id}/", {"drift_sensitivity": "4.5"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["drift_sensitivity"] == "4.500"


def test_ratio_needs_operands_of_own_tenant(personas):
    with tenant_context(personas.tenant_b):
        foreign = KpiDefinition.objects.get(key="revenue").pk
    with tenant_context(personas.tenant_a):
        subs = KpiDefinition.objects.get(key="active_subscribers").pk
    client = bearer(personas.a_manager, personas.tenant_a)
    body = {
        "key": "x",
        "name": "X",
        "unit": "ratio",
        "direction": "higher_better",
        "aggregation": "ratio",
        "numerator": foreign,
        "denominator": subs,
    }
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "does not exist" in str(response.json()["error"]["details"]["numerator"])
    body.pop("numerator")
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "numerator" in response.json()["error"]["details"]


def test_duplicate_key_is_refused(personas):
    response = bearer(personas.a_manager, personas.tenant_a).post(
        URL,
        {
            "key": "revenue",
            "name": "Again",
            "unit": "count",
            "direction": "higher_better",
            "aggregation": "sum",
        },
        content_type="application/json",
    )
    assert response.status_code == 400


def test_viewer_cannot_change_definitions(personas):
    with tenant_context(personas.tenant_a):
        kpi = KpiDefinition.objects.get(key="csat")
    response = bearer(personas.a_viewer, personas.tenant_a).patch(
        f"{URL}{kpi.pk}/", {"name": "Hacked"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_other_tenants_definition_is_not_found(personas):
    with tenant_context(personas.tenant_b):
        kpi = KpiDefinition.objects.get(key="csat")
    client = bearer(personas.a_manager, personas.tenant_a)
    assert client.get(f"{URL}{kpi.pk}/").status_code == 404
    assert (
        client.patch(f"{URL}{kpi.pk}/", {"name": "x"}, content_type="application/json").status_code
        == 404
    )
