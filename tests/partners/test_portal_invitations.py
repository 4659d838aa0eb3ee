"""Partner users invite colleagues; the invitee sets a password and joins the same partner."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.test import Client
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Membership
from partners.models import Invitation, PartnerUser
from tests.conftest import Personas, bearer, login

PASSWORD = "colleague-passphrase-2026"
LINK = re.compile(r"http://testserver(/portal/invite/alpha/[A-Za-z0-9_-]+/)")


def invite(personas: Personas, capture, email: str = "Colin@Acme.example"):
    with capture(execute=True):
        return login(personas.a_partner_user).post("/portal/colleagues/", {"email": email})


def invite_link() -> str:
    match = LINK.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_invited_colleague_joins_the_same_partner(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    response = invite(personas, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["colin@acme.example"]
    link = invite_link()
    client = Client()
    assert "Join Acme" in client.get(link).content.decode()

    response = client.post(
        link, {"full_name": "Colin Colleague", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    user = User.objects.get(email="colin@acme.example")
    assert user.full_name == "Colin Colleague"
    with tenant_context(personas.tenant_a):
        assert Membership.objects.get(user=user).role == Role.PARTNER
        assert PartnerUser.objects.get(user=user).partner == personas.a_partner
        assert Invitation.objects.get().accepted_at is not None
    assert "Acme" in client.get("/portal/").content.decode()
    colleagues = login(personas.a_partner_user).get("/portal/colleagues/").content.decode()
    assert "colin@acme.example" in colleagues

    # Used once.
    assert Client().get(link).status_code == 404


def test_expired_invitation_is_refused(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    invite(personas, django_capture_on_commit_callbacks)
    with tenant_context(personas.tenant_a):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().post(invite_link(), {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 404
    assert not User.objects.filter(email="colin@acme.example").exists()


def test_invitation_of_someone_already_in_the_tenant_is_refused(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    response = invite(personas, django_capture_on_commit_callbacks, email=personas.a_manager.email)
    assert response.status_code == 400
    assert "already has an account" in response.content.decode()
    assert mail.outbox == []


def test_invitations_via_api_are_limited_per_address(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            response = api.post(
                "/api/v1/portal/invitations/",
                {"email": "dana@acme.example"},
                content_type="application/json",
            )
            assert response.status_code == 201
        refused = api.post(
            "/api/v1/portal/invitations/",
            {"email": "dana@acme.example"},
            content_type="application/json",
        )
    assert refused.status_code == 400
    assert "email" in refused.json()["error"]["details"]
    assert len(mail.outbox) == 3
    listed = api.get("/api/v1/portal/invitations/").json()
    assert listed["count"] == 3


def test_pending_invitations_of_other_partners_are_not_listed(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(personas.tenant_a):
        Invitation.objects.create(
            partner=personas.a_other_partner,
            email="leak@other.example",
            token_digest="x" * 64,
            expires_at=timezone.now() + timedelta(days=1),
        )
    api = bearer(personas.a_partner_user, personas.tenant_a)
    assert api.get("/api/v1/portal/invitations/").json()["results"] == []
    page = login(personas.a_partner_user).get("/portal/colleagues/").content.decode()
    assert "leak@other.example" not in page
