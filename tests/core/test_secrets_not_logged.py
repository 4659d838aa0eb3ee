"""Secrets never reach the logs: passwords, API tokens, password-reset links and session ids,
whatever the log level, on success and on failure (a wrong password, a revoked token)."""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import Personas
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_credentials_tokens_and_reset_links_are_never_logged(
    personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: django.request, axes, celery...
    wrong = "not-the-password-but-still-secret-7431"

    browser = Client()
    browser.post("/accounts/login/", {"username": "a.manager@example.test", "password": wrong})
    browser.post("/accounts/login/", {"username": "a.manager@example.test", "password": PASSWORD})
    session_id = browser.cookies["sessionid"].value

    api = Client()
    token = api.post(
        "/api/v1/auth/token/",
        {"email": "a.admin@example.test", "password": PASSWORD, "tenant": "alpha"},
        content_type="application/json",
    ).json()["token"]
    authorised = Client(headers={"Authorization": f"Bearer {token}"})
    assert authorised.get("/api/v1/me/").status_code == 200
    forged = token[:-4] + "XXXX"
    assert (
        Client(headers={"Authorization": f"Bearer {forged}"}).get("/api/v1/me/").status_code == 401
    )

    Client().post("/accounts/password/reset/", {"email": "a.viewer@example.test"})
    link = re.search(r"/accounts/password/reset/(\S+)/(\S+)/", mail.outbox[-1].body)
    assert link is not None

    # The requests were logged (the refused token, the failed sign-in), only without secrets.
    assert "Unauthorized: /api/v1/me/" in caplog.text
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (PASSWORD, wrong, token, forged, token[8:], session_id, link.group(2)):
        assert secret not in logged, f"a secret reached the logs: {secret[:6]}…"
