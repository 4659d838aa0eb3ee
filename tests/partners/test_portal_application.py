"""The public 'become a partner' application: apply, confirm by email, land in the portal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Membership, Tenant
from partners.models import (
    Application,
    ChecklistStep,
    Contact,
    Notification,
    Partner,
    PartnerStatus,
    PartnerType,
    PartnerUser,
    StatusTransition,
)
from tests.conftest import Personas, login
from tests.factories import PASSWORD

NEW_PASSWORD = "a-long-portal-passphrase-42"
LINK = re.compile(r"http://testserver(/apply/alpha/confirm/[A-Za-z0-9_-]+/)")


def application_data(personas: Personas, **overrides: str) -> dict[str, str]:
    with tenant_context(personas.tenant_a):
        partner_type = PartnerType.objects.get(key="content_provider")
    data = {
        "legal_name": "Nimbus Streaming Ltd",
        "trading_name": "Nimbus",
        "country": "gb",
        "website": "https://nimbus.example",
        "partner_type": str(partner_type.pk),
        "offering": "Live sports streaming bundles for mobile subscribers.",
        "contact_name": "Nora Nimbus",
        "contact_email": "Nora@Nimbus.example",
        "contact_phone": "+44 20 7946 0000",
    }
    data.update(overrides)
    return data


def apply(client: Client, personas: Personas, capture, **overrides: str):
    with capture(execute=True):
        return client.post("/apply/alpha/", application_data(personas, **overrides))


def confirm_link(index: int = -1) -> str:
    match = LINK.search(mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(1)


def partners_named(personas: Personas, name: str) -> list[Partner]:
    with tenant_context(personas.tenant_a):
        return list(Partner.objects.filter(legal_name=name))


def test_application_confirmed_by_email_creates_an_applied_partner_with_a_portal_account(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    page = client.get("/apply/alpha/")
    assert page.status_code == 200
    assert "Become a partner of Alpha Telecom" in page.content.decode()

    response = apply(client, personas, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == "/apply/alpha/sent/"
    assert client.get(response["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nora@nimbus.example"]
    assert "Confirm your partner application" in mail.outbox[0].subject
    # Nothing exists for the staff until the email address is confirmed.
    assert partners_named(personas, "Nimbus Streaming Ltd") == []
    with tenant_context(personas.tenant_a):
        application = Application.objects.get()
    link = confirm_link()
    assert link.rsplit("/", 2)[-2] not in application.token_digest  # only the digest is stored

    assert client.get(link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    [partner] = partners_named(personas, "Nimbus Streaming Ltd")
    user = User.objects.get(email="nora@nimbus.example")
    assert user.check_password(NEW_PASSWORD)
    assert user.full_name == "Nora Nimbus"
    with tenant_context(personas.tenant_a):
        assert partner.status == PartnerStatus.APPLIED
        assert partner.country == "GB"
        assert partner.partner_type.key == "content_provider"
        assert Membership.objects.get(user=user).role == Role.PARTNER
        assert PartnerUser.objects.get(user=user).partner == partner
        contact = Contact.objects.get(partner=partner)
        assert (contact.name, contact.email, contact.is_primary) == (
            "Nora Nimbus",
            "nora@nimbus.example",
            True,
        )
        # Onboarding started: the first transition and the checklist of its type.
        assert StatusTransition.objects.filter(partner=partner, to_status="applied").exists()
        assert ChecklistStep.objects.filter(partner=partner, key="content_licence").exists()
        application.refresh_from_db()
        assert application.confirmed_at is not None
        assert application.partner == partner
        notified = set(
            Notification.objects.filter(kind="application_received", partner=partner).values_list(
                "user__email", flat=True
            )
        )
    assert notified == {personas.a_manager.email, personas.a_admin.email}
    staff_mail = [m for m in mail.outbox if personas.a_manager.email in m.to]
    assert staff_mail and "Nimbus Streaming Ltd" in staff_mail[0].subject

    # Signed in, in the portal, seeing the status.
    home = client.get("/portal/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "Nimbus" in body
    assert 'data-testid="partner-status">Applied<' in body

    # The link works once.
    again = Client().get(link)
    assert again.status_code == 404
    assert "no longer works" in again.content.decode()


def test_unknown_or_inactive_tenant_has_no_application_page(personas: Personas) -> None:
    assert Client().get("/apply/nowhere/").status_code == 404
    Tenant.objects.filter(pk=personas.tenant_b.pk).update(is_active=False)
    assert Client().get("/apply/bravo/").status_code == 404


def test_application_offers_only_the_tenants_partner_types(personas: Personas) -> None:
    with tenant_context(personas.tenant_b):
        foreign_type = PartnerType.objects.get(key="content_provider")
    client = Client()
    response = client.post(
        "/apply/alpha/", application_data(personas, partner_type=str(foreign_type.pk))
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    with tenant_context(personas.tenant_a):
        assert not Application.objects.exists()


def test_expired_or_invalid_confirmation_link_is_refused_and_creates_nothing(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    apply(client, personas, django_capture_on_commit_callbacks)
    link = confirm_link()
    with tenant_context(personas.tenant_a):
        Application.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    assert client.get(link).status_code == 404
    response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()
    assert client.get("/apply/alpha/confirm/not-a-real-token/").status_code == 404
    # A token of tenant A is no token in tenant B.
    assert client.get(link.replace("/alpha/", "/bravo/")).status_code == 404
    assert partners_named(personas, "Nimbus Streaming Ltd") == []
    assert not User.objects.filter(email="nora@nimbus.example").exists()


def test_duplicate_legal_name_gets_a_clear_error_and_nothing_is_sent(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    response = apply(
        Client(), personas, django_capture_on_commit_callbacks, legal_name="acme content ltd"
    )
    assert response.status_code == 400
    assert "is already registered" in response.content.decode()
    assert mail.outbox == []
    with tenant_context(personas.tenant_a):
        assert not Application.objects.exists()


def test_a_partner_registered_before_confirmation_makes_the_confirmation_fail_cleanly(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    apply(client, personas, django_capture_on_commit_callbacks)
    with tenant_context(personas.tenant_a):
        Partner.objects.filter(pk=personas.a_other_partner.pk).update(
            legal_name="Nimbus Streaming Ltd"
        )
    response = client.post(confirm_link(), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 400
    assert "is already registered" in response.content.decode()
    assert not User.objects.filter(email="nora@nimbus.example").exists()


def test_no_more_than_three_pending_applications_per_email(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    for n in range(3):
        response = apply(client, personas, django_capture_on_commit_callbacks, legal_name=f"N{n}")
        assert response.status_code == 302
    response = apply(client, personas, django_capture_on_commit_callbacks, legal_name="N4")
    assert response.status_code == 400
    assert "already has 3 applications waiting" in response.content.decode()
    assert len(mail.outbox) == 3


def test_weak_or_mismatched_password_is_refused_and_creates_nothing(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    apply(client, personas, django_capture_on_commit_callbacks)
    link = confirm_link()
    weak = client.post(link, {"password1": "password", "password2": "password"})
    assert weak.status_code == 400
    assert "too common" in weak.content.decode()
    mismatch = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    assert "do not match" in mismatch.content.decode()
    assert partners_named(personas, "Nimbus Streaming Ltd") == []
    assert not User.objects.filter(email="nora@nimbus.example").exists()


def test_email_with_an_account_in_this_tenant_is_sent_to_sign_in(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    apply(
        client, personas, django_capture_on_commit_callbacks, contact_email=personas.a_viewer.email
    )
    link = confirm_link()
    assert "already have an account here" in client.get(link).content.decode()
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 400
    assert partners_named(personas, "Nimbus Streaming Ltd") == []
    with tenant_context(personas.tenant_a):
        assert Membership.objects.get(user=personas.a_viewer).role == Role.VIEWER


def test_user_of_another_tenant_joins_after_proving_their_existing_password(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    apply(
        client, personas, django_capture_on_commit_callbacks, contact_email=personas.b_manager.email
    )
    link = confirm_link()
    assert "password of your PartnerHub account" in client.get(link).content.decode()

    wrong = client.post(link, {"password1": "not-the-password"})
    assert wrong.status_code == 400
    assert "not the password of your existing" in wrong.content.decode()
    assert partners_named(personas, "Nimbus Streaming Ltd") == []

    response = client.post(link, {"password1": PASSWORD})
    assert response.status_code == 302
    [partner] = partners_named(personas, "Nimbus Streaming Ltd")
    with tenant_context(personas.tenant_a):
        assert Membership.objects.get(user=personas.b_manager).role == Role.PARTNER
        assert PartnerUser.objects.get(user=personas.b_manager).partner == partner
    with tenant_context(personas.tenant_b):  # their role in B is untouched
        assert Membership.objects.get(user=personas.b_manager).role == Role.PARTNER_MANAGER
    assert client.get("/portal/").status_code == 200


def test_signed_in_staff_of_another_tenant_can_still_open_a_public_application(
    personas: Personas,
) -> None:
    response = login(personas.b_manager).get("/apply/alpha/")
    assert response.status_code == 200
    assert "Alpha Telecom" in response.content.decode()


@pytest.mark.parametrize("field", ["legal_name", "contact_email", "offering", "country"])
def test_application_with_a_missing_field_is_refused(personas: Personas, field: str) -> None:
    response = Client().post("/apply/alpha/", application_data(personas, **{field: ""}))
    assert response.status_code == 400
    with tenant_context(personas.tenant_a):
        assert not Application.objects.exists()
