"""Disputes go back and forth between CSP staff and the partner; each side hears of the other."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerhub.tenancy.context import tenant_context
from partners.models import Dispute, DisputeComment, Notification
from partners.selectors.relationship import dispute_stage_durations
from partners.services import relationship as services
from tests.conftest import bearer, login
from tests.partners.test_agreements_lifecycle import make_agreement

pytestmark = pytest.mark.django_db


def open_dispute(personas, partner=None, **extra) -> Dispute:
    with tenant_context(personas.tenant_a):
        return services.dispute_open(
            partner=partner or personas.a_partner,
            category="billing",
            title="Invoice charged twice",
            description="October fee appears twice.",
            raised_by=personas.a_partner_user,
            by_partner=True,
            **extra,
        )


def test_dispute_flows_between_both_sides_with_stage_times_and_notifications(
    personas, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(personas.tenant_a):
        personas.a_partner.account_owner = personas.a_manager
        personas.a_partner.save()
    portal = login(personas.a_partner_user)
    staff = login(personas.a_manager)
    with django_capture_on_commit_callbacks(execute=True):
        raised = portal.post(
            "/portal/disputes/new/",
            {"category": "billing", "title": "Invoice charged twice", "description": "Twice."},
        )
    assert raised.status_code == 302
    with tenant_context(personas.tenant_a):
        dispute = Dispute.objects.get()
        assert dispute.raised_by_partner and dispute.status == "open"
        # The account owner heard of it, in the app and by email.
        assert (
            Notification.objects.filter(user=personas.a_manager, kind="dispute_updated").count()
            == 1
        )
    assert [m.to for m in mail.outbox] == [[personas.a_manager.email]]

    assert staff.get("/partners/disputes/").status_code == 200
    assert b"Invoice charged twice" in staff.get(f"/partners/disputes/{dispute.pk}/").content
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/partners/disputes/{dispute.pk}/comment/", {"body": "Looking into it."})
        staff.post(f"/partners/disputes/{dispute.pk}/transition/", {"to_status": "investigating"})
        portal.post(
            f"/portal/disputes/{dispute.pk}/",
            {
                "body": "Here is the invoice.",
                "attachment": SimpleUploadedFile("invoice.pdf", b"%PDF-1.4\n%%EOF\n"),
            },
        )
        # Closing without a resolution is refused and changes nothing.
        refused = staff.post(
            f"/partners/disputes/{dispute.pk}/transition/", {"to_status": "resolved"}
        )
        assert refused.status_code == 400
        assert b"Explain the resolution" in refused.content
        staff.post(
            f"/partners/disputes/{dispute.pk}/transition/",
            {"to_status": "resolved", "resolution": "Credit note issued."},
        )
    with tenant_context(personas.tenant_a):
        dispute.refresh_from_db()
        assert dispute.status == "resolved"
        assert dispute.owner == personas.a_manager  # who started investigating took it
        assert dispute.opened_at <= dispute.investigating_at <= dispute.closed_at
        durations = dispute_stage_durations(dispute)
        assert durations["open"] + durations["investigating"] == durations["total"]
        comments = list(DisputeComment.objects.filter(dispute=dispute))
        assert [c.from_partner for c in comments] == [False, True]
        assert comments[1].attachment is not None
        assert comments[1].attachment.partner_id == personas.a_partner.pk
        partner_news = Notification.objects.filter(user=personas.a_partner_user)
        assert partner_news.count() == 3  # comment, investigating, resolved
        assert all(n.url == f"/portal/disputes/{dispute.pk}/" for n in partner_news)
        assert Notification.objects.filter(user=personas.a_manager).count() == 2  # opened, reply
    final = portal.get(f"/portal/disputes/{dispute.pk}/")
    assert b"Credit note issued." in final.content
    assert b'data-testid="dispute-closed"' in final.content
    # A closed dispute takes no more comments.
    late = portal.post(f"/portal/disputes/{dispute.pk}/", {"body": "One more thing"})
    assert late.status_code == 400


def test_transitions_follow_the_lifecycle(personas) -> None:
    dispute = open_dispute(personas)
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError, match="cannot become resolved"):
            services.dispute_transition(
                dispute=dispute, to_status="resolved", resolution="x", actor=personas.a_manager
            )
        services.dispute_transition(dispute=dispute, to_status="investigating", actor=None)
        services.dispute_transition(
            dispute=dispute, to_status="rejected", resolution="Duplicate", actor=None
        )
        with pytest.raises(ValidationError, match="allowed: nothing"):
            services.dispute_transition(dispute=dispute, to_status="investigating", actor=None)


def test_linked_agreement_and_owner_are_checked(personas) -> None:
    with tenant_context(personas.tenant_a):
        other_agreement = make_agreement(personas.a_other_partner, reference="OTHER")
    with pytest.raises(ValidationError, match="another partner"):
        open_dispute(personas, agreement=other_agreement)
    dispute = open_dispute(personas)
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError, match="admin or partner manager"):
            services.dispute_assign(dispute=dispute, owner=personas.a_viewer, actor=None)
        services.dispute_assign(dispute=dispute, owner=personas.a_admin, actor=personas.a_manager)
        assert Notification.objects.filter(user=personas.a_admin, is_task=True).count() == 1


def test_partner_user_cannot_reach_another_partners_dispute_by_page_or_api(personas) -> None:
    with tenant_context(personas.tenant_a):
        theirs = services.dispute_open(
            partner=personas.a_other_partner,
            category="kpi",
            title="Other partner's secret",
            description="x",
            raised_by=personas.a_manager,
            by_partner=False,
        )
    mine = open_dispute(personas)
    portal = login(personas.a_partner_user)
    listing = portal.get("/portal/disputes/")
    assert b"Invoice charged twice" in listing.content
    assert b"secret" not in listing.content
    assert portal.get(f"/portal/disputes/{theirs.pk}/").status_code == 404
    assert portal.post(f"/portal/disputes/{theirs.pk}/", {"body": "hi"}).status_code == 404
    api = bearer(personas.a_partner_user, personas.tenant_a)
    assert [d["id"] for d in api.get("/api/v1/portal/disputes/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/v1/portal/disputes/{theirs.pk}/").status_code == 404
    assert (
        api.post(
            f"/api/v1/portal/disputes/{theirs.pk}/comment/",
            {"body": "hi"},
            content_type="application/json",
        ).status_code
        == 404
    )
    # Partner users never reach the CSP side.
    assert api.get("/api/v1/disputes/").status_code == 403
    assert portal.get(f"/partners/disputes/{mine.pk}/").status_code == 403
    # Linking another partner's agreement is "does not exist".
    with tenant_context(personas.tenant_a):
        foreign_agreement = make_agreement(personas.a_other_partner, reference="THEIRS")
    created = api.post(
        "/api/v1/portal/disputes/",
        {
            "category": "contract",
            "title": "t",
            "description": "d",
            "agreement": foreign_agreement.pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 400
    assert "does not exist" in str(created.json()["error"]["details"]["agreement"])
    ok = api.post(
        "/api/v1/portal/disputes/",
        {"category": "contract", "title": "Mine", "description": "d"},
        content_type="application/json",
    )
    assert ok.status_code == 201
    reply = api.post(
        f"/api/v1/portal/disputes/{ok.json()['id']}/comment/",
        {"body": "More detail"},
        content_type="application/json",
    )
    assert reply.status_code == 201 and reply.json()["from_partner"] is True


def test_csp_api_isolation_and_viewer_is_read_only(personas) -> None:
    mine = open_dispute(personas)
    with tenant_context(personas.tenant_b):
        foreign = services.dispute_open(
            partner=personas.b_partner,
            category="other",
            title="Bravo's",
            description="x",
            raised_by=personas.b_manager,
            by_partner=False,
        )
    api = bearer(personas.a_manager, personas.tenant_a)
    assert [d["id"] for d in api.get("/api/v1/disputes/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/v1/disputes/{foreign.pk}/").status_code == 404
    assert login(personas.a_manager).get(f"/partners/disputes/{foreign.pk}/").status_code == 404
    assert (
        login(personas.a_manager).get(f"/partners/{personas.b_partner.pk}/disputes/").status_code
        == 404
    )
    moved = api.post(
        f"/api/v1/disputes/{mine.pk}/transition/",
        {"to_status": "investigating"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["status"] == "investigating"
    assert moved.json()["stage_times"]["investigating_seconds"] is not None
    foreign_owner = api.post(
        f"/api/v1/disputes/{mine.pk}/assign/",
        {"owner": personas.b_manager.pk},
        content_type="application/json",
    )
    assert foreign_owner.status_code == 400
    assert "does not exist" in str(foreign_owner.json()["error"]["details"]["owner"])

    viewer = bearer(personas.a_viewer, personas.tenant_a)
    assert viewer.get(f"/api/v1/disputes/{mine.pk}/").status_code == 200
    for action, body in (
        ("comment", {"body": "x"}),
        ("transition", {"to_status": "rejected", "resolution": "x"}),
        ("assign", {"owner": personas.a_manager.pk}),
    ):
        response = viewer.post(
            f"/api/v1/disputes/{mine.pk}/{action}/", body, content_type="application/json"
        )
        assert response.status_code == 403, action
    page = login(personas.a_viewer)
    assert page.post(f"/partners/disputes/{mine.pk}/comment/", {"body": "x"}).status_code == 403
    with tenant_context(personas.tenant_a):
        mine.refresh_from_db()
        assert mine.status == "investigating"
        assert not DisputeComment.objects.exists()


def test_dispute_list_runs_a_constant_number_of_queries(
    personas, django_assert_max_num_queries
) -> None:
    open_dispute(personas)
    client = login(personas.a_manager)
    api = bearer(personas.a_manager, personas.tenant_a)
    with django_assert_max_num_queries(30) as page_few:
        client.get("/partners/disputes/")
    with django_assert_max_num_queries(30) as api_few:
        api.get("/api/v1/disputes/")
    for _ in range(6):
        dispute = open_dispute(personas, partner=personas.a_other_partner)
        with tenant_context(personas.tenant_a):
            services.dispute_comment_add(
                dispute=dispute, author=personas.a_manager, body="c", from_partner=False
            )
    with django_assert_max_num_queries(len(page_few.captured_queries)):
        client.get("/partners/disputes/")
    with django_assert_max_num_queries(len(api_few.captured_queries)):
        api.get("/api/v1/disputes/")
