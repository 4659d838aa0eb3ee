"""Security headers, the Content-Security-Policy (no inline script) and rate-limited forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, RequestFactory, override_settings

from partnerhub.core.views import client_ip
from tests.conftest import Personas, login
from tests.partners.test_portal_application import application_data

pytestmark = pytest.mark.django_db

# A <script> element that runs code: no src attribute and not a JSON data block.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_pages_send_a_policy_that_forbids_inline_script(personas: Personas) -> None:
    response = login(personas.a_manager).get("/")
    directives = _directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/", "/partners/", "/kpis/", "/settlements/runs/", "/api/docs/", "/audit/"]
)
def test_rendered_pages_carry_no_inline_script(personas: Personas, path: str) -> None:
    response = login(personas.a_admin).get(path)
    assert response.status_code == 200, path
    body = response.content.decode()
    assert not INLINE_SCRIPT.findall(body), path
    assert not INLINE_HANDLER.findall(body), path


def test_no_template_has_inline_script_or_event_handlers() -> None:
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text):
            offenders.append(str(template))
    assert offenders == []


def test_api_docs_load_their_script_from_a_url() -> None:
    page = Client().get("/api/docs/")
    script = re.search(r'<script src="([^"]*\?script=?)"', page.content.decode())
    assert script, page.content.decode()[:500]
    assert Client().get(script.group(1)).status_code == 200


def test_password_reset_is_rate_limited_per_address(personas: Personas) -> None:
    client = Client()
    limit = int(settings.RATELIMIT_PASSWORD_RESET.split("/")[0])
    for _ in range(limit):
        response = client.post("/accounts/password/reset/", {"email": "a.viewer@example.test"})
        assert response.status_code == 302
    refused = client.post("/accounts/password/reset/", {"email": "a.viewer@example.test"})
    assert refused.status_code == 429
    assert b"Too many requests" in refused.content
    assert len(mail.outbox) == limit
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post("/accounts/password/reset/", {"email": "x@example.test"}).status_code == 302


def test_public_application_form_is_rate_limited(personas: Personas) -> None:
    client = Client()
    limit = int(settings.RATELIMIT_APPLY.split("/")[0])
    for index in range(limit):
        data = application_data(personas, legal_name=f"Applicant {index} Ltd")
        assert client.post("/apply/alpha/", data).status_code in (302, 400)
    refused = client.post("/apply/alpha/", application_data(personas, legal_name="One more Ltd"))
    assert refused.status_code == 429
    assert client.get("/apply/alpha/").status_code == 200  # reading the form is not limited


@override_settings(PROXY_COUNT=1)
def test_client_address_behind_one_proxy_is_the_rightmost_forwarded_entry() -> None:
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.1"
    )
    assert client_ip(request) == "203.0.113.7"  # the spoofed left entry is ignored


def test_client_address_without_proxies_is_the_socket_peer() -> None:
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"


def test_forms_refuse_a_post_without_the_csrf_token(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.a_manager)
    assert client.post("/accounts/tenant/switch/", {"tenant": "alpha"}).status_code == 403
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/apply/alpha/", {}).status_code == 403
    assert (
        anonymous.post("/accounts/password/reset/", {"email": "x@example.test"}).status_code == 403
    )
