"""Interaction log, last contact, and "gone quiet" detection."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partnerhub.tenancy.context import tenant_context
from partners.models import Interaction, Partner, ProgramSettings
from partners.selectors.relationship import partners_quiet
from partners.services.relationship import interaction_log
from tests.conftest import bearer, login
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def log(partner, on: date, subject: str = "Call") -> Interaction:
    return interaction_log(
        partner=partner, kind="call", occurred_on=on, subject=subject, logged_by=None
    )


def test_last_contact_is_the_latest_interaction_whatever_the_logging_order(personas) -> None:
    today = timezone.localdate()
    with tenant_context(personas.tenant_a):
        log(personas.a_partner, today - timedelta(days=3))
        log(personas.a_partner, today - timedelta(days=20))  # logged late, older
        assert Partner.objects.get(pk=personas.a_partner.pk).last_contact_on == today - timedelta(
            days=3
        )
        with pytest.raises(ValidationError, match="future"):
            log(personas.a_partner, today + timedelta(days=1))
        with pytest.raises(ValidationError, match="follow-up"):
            interaction_log(
                partner=personas.a_partner,
                kind="call",
                occurred_on=today,
                subject="x",
                logged_by=None,
                follow_up_on=today - timedelta(days=1),
            )


def test_quiet_partners_are_active_ones_past_the_tenant_threshold(personas) -> None:
    today = date(2026, 6, 30)
    with tenant_context(personas.tenant_a):
        Partner.objects.filter(pk__in=[personas.a_partner.pk, personas.a_other_partner.pk]).update(
            status_changed_at=timezone.now() - timedelta(days=400)
        )
        Partner.objects.filter(pk=personas.a_partner.pk).update(last_contact_on=date(2026, 6, 16))
        Partner.objects.filter(pk=personas.a_other_partner.pk).update(
            last_contact_on=date(2026, 6, 15)
        )
        prospect = PartnerFactory(status="vetting")
        Partner.objects.filter(pk=prospect.pk).update(last_contact_on=date(2026, 1, 1))
        never = PartnerFactory()  # active, never contacted, status changed long ago
        Partner.objects.filter(pk=never.pk).update(
            status_changed_at=timezone.now() - timedelta(days=400)
        )
        # 14 days by default: exactly 14 days is not yet quiet, 15 is.
        assert {p.pk for p in partners_quiet(on=today)} == {personas.a_other_partner.pk, never.pk}
        ProgramSettings.objects.update(quiet_after_days=30)
        assert {p.pk for p in partners_quiet(on=today)} == {never.pk}
    with tenant_context(personas.tenant_b):
        assert list(partners_quiet(on=today)) == []


def test_panel_logs_with_htmx_and_the_api_lists_and_creates(personas) -> None:
    client = login(personas.a_manager)
    url = f"/partners/{personas.a_partner.pk}/interactions/"
    assert client.get(url).status_code == 200
    today = timezone.localdate().isoformat()
    logged = client.post(
        url, {"kind": "qbr", "occurred_on": today, "subject": "Q4 review"}, HTTP_HX_REQUEST="true"
    )
    assert logged.status_code == 200
    assert b"Q4 review" in logged.content
    invalid = client.post(url, {"kind": "qbr", "subject": ""}, HTTP_HX_REQUEST="true")
    assert invalid.status_code == 200 and b"is-invalid" in invalid.content

    api = bearer(personas.a_manager, personas.tenant_a)
    api_url = f"/api/v1/partners/{personas.a_partner.pk}/interactions/"
    created = api.post(
        api_url,
        {"kind": "call", "occurred_on": today, "subject": "Follow-up call"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert [i["subject"] for i in api.get(api_url).json()["results"]] == [
        "Follow-up call",
        "Q4 review",
    ]
    # Another tenant's partner answers like a missing one; a viewer cannot log.
    foreign = f"/api/v1/partners/{personas.b_partner.pk}/interactions/"
    assert api.get(foreign).status_code == 404
    assert (
        api.post(
            foreign,
            {"kind": "call", "occurred_on": today, "subject": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert client.get(f"/partners/{personas.b_partner.pk}/interactions/").status_code == 404
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    assert (
        viewer.post(
            api_url,
            {"kind": "call", "occurred_on": today, "subject": "x"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert (
        login(personas.a_viewer)
        .post(url, {"kind": "call", "occurred_on": today, "subject": "x"})
        .status_code
        == 403
    )
    with tenant_context(personas.tenant_a):
        assert Interaction.objects.count() == 2
