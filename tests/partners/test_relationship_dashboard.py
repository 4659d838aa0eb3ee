"""The partner manager's dashboard: right numbers, SQL medians, fixed query count, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerhub.tenancy.context import tenant_context
from partners.models import Partner, StatusTransition
from partners.selectors.dashboard import dashboard_data
from partners.services.notifications import notify
from tests.conftest import login
from tests.partners.factories import PartnerFactory
from tests.partners.test_relationship_disputes import open_dispute

pytestmark = pytest.mark.django_db


def add_history(partner: Partner, days_in_stage: list[tuple[str, int]]) -> None:
    """Transitions `applied` -> ... each lasting the given days, ending now."""
    at = timezone.now() - timedelta(days=sum(d for _, d in days_in_stage))
    previous = ""
    for status, days in days_in_stage:
        row = StatusTransition.objects.create(
            partner=partner, from_status=previous, to_status=status
        )
        StatusTransition.objects.filter(pk=row.pk).update(at=at)
        at += timedelta(days=days)
        previous = status


def grow(count: int) -> None:
    for _ in range(count):
        partner = PartnerFactory(status="vetting")
        add_history(partner, [("applied", 2), ("vetting", 1)])


def test_dashboard_numbers_and_median_days_per_stage(personas) -> None:
    with tenant_context(personas.tenant_a):
        a = PartnerFactory(status="active")
        add_history(a, [("applied", 2), ("vetting", 4), ("active", 1)])
        b = PartnerFactory(status="vetting")
        add_history(b, [("applied", 6), ("vetting", 1)])
        c = PartnerFactory(status="vetting")
        add_history(c, [("applied", 3), ("vetting", 1)])
        Partner.objects.filter(pk=personas.a_partner.pk).update(
            last_contact_on=timezone.localdate() - timedelta(days=30)
        )
        notify(
            users=[personas.a_manager],
            kind="partner_quiet",
            title="Call Acme",
            dedup_key="t1",
            is_task=True,
        )
        data = dashboard_data(user=personas.a_manager)
    open_dispute(personas)
    with tenant_context(personas.tenant_a):
        data = dashboard_data(user=personas.a_manager)
    funnel = {row["status"]: row for row in data["funnel"]}
    assert funnel["applied"]["median_days"] == pytest.approx(3.0, abs=0.01)  # 2, 3, 6
    assert funnel["vetting"]["median_days"] == pytest.approx(4.0, abs=0.01)  # one finished stay
    assert funnel["vetting"]["count"] == 2
    assert funnel["active"]["median_days"] is None
    assert data["partners_total"] == 5
    assert [p.pk for p in data["quiet_partners"]] == [personas.a_partner.pk]
    assert data["open_disputes_total"] == 1
    assert [t.title for t in data["tasks"]] == ["Call Acme"]


def test_dashboard_page_runs_a_fixed_number_of_queries_for_every_role(
    personas, django_assert_max_num_queries
) -> None:
    client = login(personas.a_manager)
    with tenant_context(personas.tenant_a):
        grow(2)
    with django_assert_max_num_queries(40) as few:
        page = client.get("/")
    assert page.status_code == 200
    assert b'data-testid="partner-dashboard"' in page.content
    with tenant_context(personas.tenant_a):
        grow(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/")
    for user in (personas.a_viewer, personas.a_finance, personas.a_admin):
        assert login(user).get("/").status_code == 200
    partner_home = login(personas.a_partner_user).get("/")
    assert partner_home.status_code == 302 and partner_home["Location"].startswith("/portal/")
