"""Tenant admins set the programme's quiet threshold, reminder window and upload limit, on the
settings page and in the API; the reminders, quiet flags and upload checks follow them."""

from __future__ import annotations

import pytest

from partnerhub.tenancy.context import tenant_context
from partners.models import ProgramSettings
from partners.selectors.agreements import reminder_window_days
from partners.selectors.relationship import quiet_after_days
from partners.services.documents import max_upload_bytes
from tests.conftest import Personas, bearer, login

pytestmark = pytest.mark.django_db
JSON = "application/json"


def current(personas: Personas, tenant: str = "a") -> tuple[int, int, int]:
    with tenant_context(personas.tenant_a if tenant == "a" else personas.tenant_b):
        return quiet_after_days(), reminder_window_days(), max_upload_bytes() // (1024 * 1024)


def test_admin_changes_the_settings_on_the_page_and_others_cannot(personas: Personas) -> None:
    admin = login(personas.a_admin)
    page = admin.get("/partners/settings/").content.decode()
    assert 'data-testid="settings-form"' in page
    assert 'name="quiet_after_days"' in page and 'value="14"' in page

    saved = admin.post(
        "/partners/settings/",
        {
            "action": "update_settings",
            "quiet_after_days": "21",
            "reminder_window_days": "45",
            "max_upload_mb": "5",
        },
    )
    assert saved.status_code == 302
    assert current(personas) == (21, 45, 5)
    assert current(personas, "b") == (14, 30, 10)  # the other tenant keeps its own

    refused = admin.post(
        "/partners/settings/",
        {
            "action": "update_settings",
            "quiet_after_days": "0",
            "reminder_window_days": "45",
            "max_upload_mb": "500",
        },
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "greater than or equal to 1" in body and "less than or equal to 50" in body
    assert current(personas) == (21, 45, 5)

    manager = login(personas.a_manager)
    assert manager.get("/partners/settings/").status_code == 403
    assert (
        manager.post(
            "/partners/settings/",
            {
                "action": "update_settings",
                "quiet_after_days": "99",
                "reminder_window_days": "99",
                "max_upload_mb": "9",
            },
        ).status_code
        == 403
    )
    assert current(personas) == (21, 45, 5)


def test_settings_api_reads_for_staff_and_changes_for_admins_only(personas: Personas) -> None:
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    assert viewer.get("/api/v1/programme-settings/").json() == {
        "quiet_after_days": 14,
        "reminder_window_days": 30,
        "max_upload_mb": 10,
    }
    manager = bearer(personas.a_manager, personas.tenant_a)
    refused = manager.patch(
        "/api/v1/programme-settings/", {"quiet_after_days": 7}, content_type=JSON
    )
    assert refused.status_code == 403
    assert (
        bearer(personas.a_partner_user, personas.tenant_a)
        .get("/api/v1/programme-settings/")
        .status_code
        == 403
    )

    admin = bearer(personas.a_admin, personas.tenant_a)
    changed = admin.patch("/api/v1/programme-settings/", {"quiet_after_days": 7}, content_type=JSON)
    assert changed.status_code == 200
    assert changed.json() == {
        "quiet_after_days": 7,
        "reminder_window_days": 30,
        "max_upload_mb": 10,
    }

    bad = admin.put(
        "/api/v1/programme-settings/",
        {"quiet_after_days": 7, "reminder_window_days": 400, "max_upload_mb": 10},
        content_type=JSON,
    )
    assert bad.status_code == 400
    assert "reminder_window_days" in bad.json()["error"]["details"]
    missing = admin.put("/api/v1/programme-settings/", {"quiet_after_days": 8}, content_type=JSON)
    assert missing.status_code == 400
    assert current(personas) == (7, 30, 10)
    with tenant_context(personas.tenant_a):
        assert ProgramSettings.objects.count() == 1
    assert current(personas, "b") == (14, 30, 10)
