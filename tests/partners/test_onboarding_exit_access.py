"""An exited partner keeps its history, and its users can no longer sign in to the tenant:
no new API token, existing tokens refused, no tenant for a web session; other partners' users
are untouched."""

from __future__ import annotations

import pytest
from django.test import Client

from partnerhub.accounts.models import ApiToken
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Membership
from partners.models import ChecklistKind, ChecklistStep, PartnerStatus, PartnerUser
from partners.services.onboarding import partner_transition
from tests.conftest import Personas, bearer, login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-portal-password-1"


def token_request(email: str) -> int:
    return (
        Client()
        .post(
            "/api/v1/auth/token/",
            {"email": email, "password": PASSWORD, "tenant": "alpha", "name": "t"},
            content_type="application/json",
        )
        .status_code
    )


def test_exited_partners_users_can_no_longer_sign_in_and_others_are_untouched(
    personas: Personas,
) -> None:
    user = personas.a_partner_user
    user.set_password(PASSWORD)
    user.save()
    other_user = UserFactory(email="other.partner@example.test")
    other_user.set_password(PASSWORD)
    other_user.save()
    with tenant_context(personas.tenant_a):
        Membership.objects.create(user=other_user, role="partner")
        PartnerUser.objects.create(user=other_user, partner=personas.a_other_partner)
    assert token_request(user.email) == 201
    api = bearer(user, personas.tenant_a)
    assert api.get("/api/v1/portal/partner/").status_code == 200

    with tenant_context(personas.tenant_a):
        partner_transition(
            partner=personas.a_partner, to_status=PartnerStatus.OFFBOARDING, actor=None
        )
        ChecklistStep.objects.filter(
            partner=personas.a_partner, kind=ChecklistKind.OFFBOARDING
        ).update(state=ChecklistStep.State.DONE)
        # Still a partner user until the very end.
        assert Membership.objects.filter(user=user).exists()
        partner_transition(
            partner=personas.a_partner, to_status=PartnerStatus.EXITED, actor=personas.a_manager
        )
        assert not Membership.objects.filter(user=user).exists()
        assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
        # The history stays: who the partner's users were.
        assert PartnerUser.objects.filter(user=user, partner=personas.a_partner).exists()

    assert token_request(user.email) == 400
    assert api.get("/api/v1/portal/partner/").status_code == 401
    assert login(user).get("/portal/").status_code in (403, 404)
    # The sign-in form refuses the password with a reason, and starts no session.
    browser = Client()
    page = browser.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert page.status_code == 200
    assert "no longer has access to any PartnerHub tenant" in page.content.decode()
    assert "_auth_user_id" not in browser.session
    # The other partner's user still signs in.
    assert token_request(other_user.email) == 201
    assert bearer(other_user, personas.tenant_a).get("/api/v1/portal/partner/").status_code == 200
