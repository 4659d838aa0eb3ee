"""Browser sign-in: password, throttling, reset by email, TOTP, tenant switching."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partnerhub.accounts.roles import Role
from partnerhub.tenancy.middleware import SESSION_KEY
from partnerhub.tenancy.services import membership_set
from tests.conftest import Personas, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_login_lands_on_the_dashboard_of_the_users_tenant(personas: Personas) -> None:
    client = Client()
    response = _sign_in(client, "a.manager@example.test")
    assert response.status_code == 302
    dashboard = client.get(response["Location"])
    assert dashboard.status_code == 200
    assert b"Alpha Telecom" in dashboard.content


def test_wrong_password_is_refused(personas: Personas) -> None:
    response = _sign_in(Client(), "a.manager@example.test", "nope")
    assert response.status_code == 200
    assert response.context["form"].errors


def test_repeated_failures_lock_the_account_out(personas: Personas) -> None:
    client = Client()
    for _ in range(5):
        _sign_in(client, "a.manager@example.test", "guess")
    response = _sign_in(client, "a.manager@example.test")  # right password, but locked
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_working_link(personas: Personas) -> None:
    client = Client()
    client.post("/accounts/password/reset/", {"email": "a.viewer@example.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password/reset/\S+/\S+/", mail.outbox[0].body)
    assert link is not None
    form_page = client.get(link.group(0), follow=True)
    new = "a new long passphrase 42"
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert _sign_in(Client(), "a.viewer@example.test", new).status_code == 302


def test_totp_users_need_a_code_after_the_password(personas: Personas, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wrong code below would delay the right one
    device = TOTPDevice.objects.create(user=personas.a_admin, name="phone", confirmed=True)
    client = Client()
    response = _sign_in(client, "a.admin@example.test")
    assert response["Location"] == "/accounts/login/verify/"
    assert "_auth_user_id" not in client.session
    assert client.post("/accounts/login/verify/", {"otp": "000000"}).status_code == 200
    assert "_auth_user_id" not in client.session
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    assert client.post("/accounts/login/verify/", {"otp": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(personas.a_admin.pk)


def test_two_factor_setup_confirms_a_device_with_a_code(personas: Personas) -> None:
    client = login(personas.a_finance)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=personas.a_finance)
    assert not device.confirmed
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    client.post("/accounts/two-factor/", {"otp": code})
    device.refresh_from_db()
    assert device.confirmed


def test_a_user_switches_between_their_tenants_only(personas: Personas) -> None:
    membership_set(tenant=personas.tenant_b, user=personas.a_manager, role=Role.VIEWER)
    client = login(personas.a_manager)
    assert b"Alpha Telecom" in client.get("/").content
    client.post("/accounts/tenant/switch/", {"tenant": personas.tenant_b.pk})
    assert client.session[SESSION_KEY] == personas.tenant_b.pk
    viewer = login(personas.a_viewer)
    viewer.post("/accounts/tenant/switch/", {"tenant": personas.tenant_b.pk})
    assert SESSION_KEY not in viewer.session


def test_anonymous_visitors_are_sent_to_login(personas: Personas) -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
