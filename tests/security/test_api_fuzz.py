"""Schemathesis against the OpenAPI schema: every operation, as every tenant-A persona.

The schema comes from drf-spectacular's generator (the one ``/api/schema/`` serves) and the
requests go to Django's WSGI handler in this process, inside the test's transaction: nothing
leaves the process. Per operation and persona, hypothesis draws ``FUZZ_EXAMPLES`` requests, valid
or invalid (derandomized, so every run sends the same ones). Each answer must not be a
5xx, must use a documented status code and content type, must match the documented body (errors
in the one error format of ``partnerhub/core/errors.py``). Schemathesis' negative_data_rejection
check is not run: by design the API ignores an invalid ``page_size`` and empty or unparsable
filter values (DRF's and django-filter's behaviour) instead of refusing the request.
``PARTNERHUB_FUZZ_EXAMPLES=50 make pytest PYTEST_ARGS=tests/security`` fuzzes longer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from partnerhub.accounts.models import User
from partnerhub.accounts.services import api_token_create
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from tests.conftest import Personas, bearer

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = int(os.environ.get("PARTNERHUB_FUZZ_EXAMPLES", "1"))
PERSONAS = ("a_admin", "a_manager", "a_finance", "a_viewer", "a_partner_user")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Operations not fuzzed, each with its reason; the test below fails if one is left out silently.
EXCLUDED: dict[str, str] = {
    # Throttled to 10/min per client address: fuzzing it fills the throttle for the other tests
    # in the same minute. Its bad input is covered by tests/accounts/test_api_auth.py.
}


def _schema() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    # Round-trip through JSON as /api/schema/ does (lazy strings, Decimals, enums -> plain JSON).
    return json.loads(json.dumps(generated, default=str))


SCHEMA = schemathesis.openapi.from_dict(_schema())
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}
APP = get_wsgi_application()


def test_every_operation_is_fuzzed_or_excluded_with_a_reason() -> None:
    assert set(EXCLUDED) <= set(OPERATIONS), set(EXCLUDED) - set(OPERATIONS)
    assert all(reason.strip() for reason in EXCLUDED.values())


@contextmanager
def _connection_kept() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request; the test's
    transaction lives on it, so keep it open as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _token(user: User, tenant: Tenant) -> str:
    with tenant_context(tenant):
        return f"Bearer {api_token_create(user=user, name='fuzz').raw}"


def _strategy(operation: Any, **fixed: Any) -> st.SearchStrategy[Any]:
    return st.one_of(
        operation.as_strategy(generation_mode=mode, **fixed)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )


# With path parameters, these personas' requests aim at a row that exists (tenant A's partner of
# the partner user) so the views behind the 404 are fuzzed too; the others' ids are random.
KNOWN_ID_PERSONAS = ("a_admin", "a_finance", "a_partner_user")


@pytest.mark.parametrize("label", sorted(set(OPERATIONS) - set(EXCLUDED)))
def test_operation_answers_as_documented(personas: Personas, label: str) -> None:
    operation = OPERATIONS[label]
    headers = {name: _token(getattr(personas, name), personas.tenant_a) for name in PERSONAS}

    names = [p.name for p in operation.path_parameters]
    strategies = {
        "random": _strategy(operation),
        "known": _strategy(operation, path_parameters=dict.fromkeys(names, personas.a_partner.pk)),
    }
    fuzz = {
        kind: settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(case=strategy)(_send))
        for kind, strategy in strategies.items()
    }
    with _connection_kept():
        for persona in PERSONAS:  # every persona, each with its own examples
            aimed = names and persona in KNOWN_ID_PERSONAS
            fuzz["known" if aimed else "random"](headers[persona])


def _send(authorization: str, case: Any) -> None:
    response = case.call(app=APP, headers={"Authorization": authorization})
    case.validate_response(response, checks=CHECKS, headers={"Authorization": "…"})


# --- Regressions found by the fuzzing -----------------------------------------------------


def test_an_unrouted_api_path_answers_404_in_the_error_format(personas: Personas) -> None:
    # A path parameter that is not a number matches no route: Django's HTML 404 page before.
    client = bearer(personas.a_manager, personas.tenant_a)
    response = client.get("/api/v1/partners/not-a-number/contacts/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"status": 404, "code": "not_found", "message": "No such resource."}
    }
    assert "<html" in Client().get("/no-such-page/").content.decode()


def test_every_operation_documents_its_error_responses() -> None:
    schema = _schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security") != [{}]:  # [{}]: open to anonymous callers
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert "400" in responses, (method, path)


@pytest.mark.parametrize(
    ("label", "persona"),
    [
        # Blank website and risk level, no parent (the model-derived fields claimed a URL, a
        # choice and a string).
        ("GET /api/v1/partners/", "a_admin"),
        ("GET /api/v1/portal/partner/", "a_partner_user"),
        # Journal settings never saved: updated_at is null.
        ("GET /api/v1/settlements/journal-settings/", "a_admin"),
    ],
)
def test_blank_and_null_fields_match_the_schema(
    personas: Personas, label: str, persona: str
) -> None:
    case = OPERATIONS[label].Case()
    with _connection_kept():
        token = _token(getattr(personas, persona), personas.tenant_a)
        response = case.call(app=APP, headers={"Authorization": token})
    assert response.status_code == 200
    case.validate_response(response, checks=[response_schema_conformance])


def test_a_locked_out_token_request_answers_in_the_error_format(personas: Personas) -> None:
    # django-axes answered the API with its HTML "sign-in paused" page.
    client = Client()
    body = {"email": "a.manager@example.test", "password": "wrong", "tenant": "alpha"}
    for _ in range(5):
        client.post("/api/v1/auth/token/", body, content_type="application/json")
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert (
        "Sign-in paused"
        in Client()
        .post("/accounts/login/", {"username": "a.manager@example.test", "password": "wrong"})
        .content.decode()
    )
