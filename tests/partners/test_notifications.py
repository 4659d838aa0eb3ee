"""notify(): idempotent in-app rows, one email per recipient after commit; the inbox page/API."""

from __future__ import annotations

import pytest
from django.core import mail

from partnerhub.tenancy.context import tenant_context
from partners.models import Notification
from partners.selectors.relationship import notification_unread_count
from partners.services.notifications import notify
from tests.conftest import bearer, login

pytestmark = pytest.mark.django_db


def test_notify_twice_with_the_same_key_creates_one_row_and_sends_one_email(
    personas, django_capture_on_commit_callbacks
) -> None:
    for _ in range(2):
        with (
            django_capture_on_commit_callbacks(execute=True),
            tenant_context(personas.tenant_a),
        ):
            notify(
                users=[personas.a_manager, personas.a_admin],
                kind="dispute_updated",
                title="Dispute updated",
                body="Something changed.",
                url="/partners/disputes/1/",
                partner=personas.a_partner,
                dedup_key="dispute:1:x",
            )
    with tenant_context(personas.tenant_a):
        assert Notification.objects.filter(dedup_key="dispute:1:x").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        personas.a_admin.email,
        personas.a_manager.email,
    ]
    assert all(len(m.to) == 1 for m in mail.outbox)
    assert mail.outbox[0].subject == "[Alpha Telecom] Dispute updated"
    assert "/partners/disputes/1/" in mail.outbox[0].body


def test_notify_sends_nothing_when_the_transaction_rolls_back(
    personas, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        tenant_context(personas.tenant_a),
    ):
        notify(users=[personas.a_manager], kind="x", title="t", dedup_key="k1")
    assert len(callbacks) == 1  # queued for after commit, not sent inline
    assert mail.outbox == []


def test_notify_without_email_only_creates_the_row(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(personas.tenant_a):
        created = notify(
            users=[personas.a_manager], kind="x", title="t", dedup_key="k2", email=False
        )
    assert len(created) == 1
    assert mail.outbox == []


def test_same_key_in_another_tenant_is_another_notification(personas) -> None:
    with tenant_context(personas.tenant_a):
        assert len(notify(users=[personas.a_manager], kind="x", title="A", dedup_key="k")) == 1
    with tenant_context(personas.tenant_b):
        assert len(notify(users=[personas.b_manager], kind="x", title="B", dedup_key="k")) == 1
        assert Notification.objects.count() == 1


def test_inbox_page_shows_only_own_notifications_and_marks_them_read(personas) -> None:
    with tenant_context(personas.tenant_a):
        notify(users=[personas.a_manager], kind="x", title="For the manager", dedup_key="m")
        notify(users=[personas.a_admin], kind="x", title="For the admin", dedup_key="a")
        mine = Notification.objects.get(user=personas.a_manager)
        unread = notification_unread_count(personas.a_manager)
    assert unread == 1
    client = login(personas.a_manager)
    page = client.get("/partners/notifications/")
    assert page.status_code == 200
    assert b"For the manager" in page.content
    assert b"For the admin" not in page.content

    # Someone else's id is ignored; one's own is marked read.
    with tenant_context(personas.tenant_a):
        other = Notification.objects.get(user=personas.a_admin)
    client.post("/partners/notifications/read/", {"id": other.pk})
    client.post("/partners/notifications/read/", {"id": mine.pk})
    with tenant_context(personas.tenant_a):
        assert Notification.objects.get(pk=mine.pk).read_at is not None
        assert Notification.objects.get(pk=other.pk).read_at is None


def test_partner_user_sees_their_inbox_in_the_portal_layout(personas) -> None:
    with tenant_context(personas.tenant_a):
        notify(users=[personas.a_partner_user], kind="x", title="Hello partner", dedup_key="p")
    page = login(personas.a_partner_user).get("/partners/notifications/")
    assert page.status_code == 200
    assert b"Hello partner" in page.content
    assert b"portal-nav" in page.content


def test_notifications_api_lists_own_rows_and_marks_all_read(personas) -> None:
    with tenant_context(personas.tenant_a):
        notify(users=[personas.a_viewer], kind="x", title="Mine", dedup_key="v1", is_task=True)
        notify(users=[personas.a_manager], kind="x", title="Not mine", dedup_key="v2")
    client = bearer(personas.a_viewer, personas.tenant_a)
    listing = client.get("/api/v1/notifications/").json()
    assert [n["title"] for n in listing["results"]] == ["Mine"]
    assert listing["results"][0]["is_task"] is True
    marked = client.post("/api/v1/notifications/read/", {}, content_type="application/json")
    assert marked.status_code == 200
    assert marked.json() == {"marked": 1, "unread": 0}


def test_emails_muted_keeps_the_in_app_row_but_sends_nothing(
    personas, django_capture_on_commit_callbacks
) -> None:
    from partners.services.notifications import emails_muted

    with (
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(personas.tenant_a),
        emails_muted(),
    ):
        assert len(notify(users=[personas.a_manager], kind="x", title="t", dedup_key="m1")) == 1
    assert mail.outbox == []
