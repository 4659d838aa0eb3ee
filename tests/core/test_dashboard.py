"""The dashboard's KPI and settlement cards: the tenant's own figures, for staff roles."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login
from tests.kpis.test_alerts import alerts  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def card_value(html: str, testid: str) -> str:
    match = re.search(
        rf'data-testid="{testid}".*?data-testid="card-value">([^<]*)<', html, flags=re.S
    )
    assert match, f"no {testid} card"
    return match.group(1).strip()


def test_cards_count_only_the_current_tenants_rows(personas, alerts) -> None:  # noqa: F811
    html = login(personas.a_manager).get("/").content.decode()
    # Two alerts in tenant A (the third belongs to tenant B).
    assert card_value(html, "card-kpi-alerts") == "2"
    assert card_value(html, "card-draft-statements") == "0"
    assert "No settlement run yet." in html

    other = login(personas.b_manager).get("/").content.decode()
    assert card_value(other, "card-kpi-alerts") == "1"


def test_every_staff_role_sees_the_cards(personas) -> None:
    for user in (personas.a_admin, personas.a_finance, personas.a_viewer):
        html = login(user).get("/").content.decode()
        assert 'data-testid="card-kpi-alerts"' in html
        assert 'data-testid="card-draft-statements"' in html
