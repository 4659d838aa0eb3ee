"""The daily reminders: right windows, right people, idempotent, one task per tenant."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from partnerhub.tenancy.context import tenant_context
from partners.models import Document, Notification, Partner
from partners.services.reminders import reminders_run
from partners.tasks import partners_daily_reminders
from tests.partners.test_agreements_lifecycle import activate, make_agreement

pytestmark = pytest.mark.django_db
ON = date(2026, 6, 1)


def test_reminders_cover_the_window_and_rerunning_creates_nothing(personas) -> None:
    with tenant_context(personas.tenant_a):
        owned = personas.a_partner
        owned.account_owner = personas.a_manager
        owned.save()
        Partner.objects.update(last_contact_on=ON - timedelta(days=2))
        ending = activate(
            make_agreement(
                owned,
                reference="END",
                start_date=date(2025, 1, 1),
                end_date=ON + timedelta(days=30),
                next_review_date=date(2027, 1, 1),
            )
        )
        activate(
            make_agreement(
                owned,
                reference="FAR",
                start_date=date(2025, 1, 1),
                end_date=ON + timedelta(days=31),
                next_review_date=date(2027, 1, 1),
            )
        )
        # Auto-renewing: ends in 100 days, notice 90 days: the deadline is in 10 days.
        renewing = activate(
            make_agreement(
                owned,
                reference="AUTO",
                start_date=date(2025, 1, 1),
                end_date=ON + timedelta(days=100),
                auto_renew=True,
                notice_period_days=90,
                next_review_date=date(2027, 1, 1),
            )
        )
        # No owner: the review goes to the tenant's admins and partner managers.
        review = activate(
            make_agreement(
                personas.a_other_partner,
                reference="REV",
                start_date=date(2025, 1, 1),
                end_date=None,
                next_review_date=ON + timedelta(days=5),
            )
        )
        make_agreement(
            owned, reference="DRAFT", start_date=date(2025, 1, 1), end_date=ON + timedelta(days=3)
        )  # drafts get no reminders
        doc = Document.objects.create(
            partner=owned,
            doc_type="insurance",
            file="x",
            original_name="ins.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            expires_on=ON + timedelta(days=7),
        )
        quiet = Partner.objects.create(
            legal_name="Quiet Ltd",
            country="DE",
            partner_type=owned.partner_type,
            status="active",
            account_owner=personas.a_admin,
            last_contact_on=ON - timedelta(days=40),
        )

        first = reminders_run(on=ON)
        assert first == {
            "agreement_ending": 2,
            "agreement_review_due": 2,  # REV's owners: admin and manager
            "document_expiring": 1,
            "partner_quiet": 1,
        }
        assert reminders_run(on=ON) == {}

        manager_tasks = Notification.objects.filter(user=personas.a_manager, is_task=True)
        keys = set(manager_tasks.values_list("dedup_key", flat=True))
        assert keys == {
            f"agreement:{ending.pk}:ending:{ending.end_date.isoformat()}",
            f"agreement:{renewing.pk}:notice:{(ON + timedelta(days=10)).isoformat()}",
            f"agreement:{review.pk}:review:{review.next_review_date.isoformat()}",
            f"document:{doc.pk}:expires:{doc.expires_on.isoformat()}",
        }
        assert Notification.objects.get(user=personas.a_admin, kind="partner_quiet").dedup_key == (
            f"partner:{quiet.pk}:quiet:{(ON - timedelta(days=40)).isoformat()}"
        )
        assert not Notification.objects.filter(user=personas.a_viewer).exists()

        # The next day FAR enters the window; nothing already reminded repeats.
        assert reminders_run(on=ON + timedelta(days=1)) == {"agreement_ending": 1}

        # A completed review moves the date out of the window: nothing new, even on a rerun.
        from partners.services.agreements import agreement_review_complete

        agreement_review_complete(agreement=review, actor=None, on=ON)
        assert reminders_run(on=ON + timedelta(days=1)) == {}


def test_daily_task_fans_out_per_tenant_and_is_idempotent(personas, monkeypatch) -> None:
    from partners import tasks

    fanned: list[tuple[int, str]] = []

    def run_now(tenant_id: int, on_date_iso: str) -> None:
        fanned.append((tenant_id, on_date_iso))
        tasks.partners_reminders_for_tenant.apply(args=[tenant_id, on_date_iso]).get()

    monkeypatch.setattr(tasks.partners_reminders_for_tenant, "delay", run_now)
    with tenant_context(personas.tenant_b):
        Partner.objects.filter(pk=personas.b_partner.pk).update(
            account_owner=personas.b_manager, last_contact_on=ON - timedelta(days=60)
        )
    assert partners_daily_reminders.apply(args=[ON.isoformat()]).get() == 2
    partners_daily_reminders.apply(args=[ON.isoformat()]).get()
    assert sorted(fanned) == sorted(
        [(personas.tenant_a.pk, "2026-06-01"), (personas.tenant_b.pk, "2026-06-01")] * 2
    )
    with tenant_context(personas.tenant_b):
        assert (
            Notification.objects.filter(user=personas.b_manager, kind="partner_quiet").count() == 1
        )
    with tenant_context(personas.tenant_a):
        assert not Notification.objects.filter(kind="partner_quiet").exists()
