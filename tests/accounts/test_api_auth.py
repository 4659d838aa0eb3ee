"""Bearer tokens: obtain, use, list, revoke; who am I; one error format."""

from __future__ import annotations

import pytest
from django.test import Client

from partnerhub.accounts.models import ApiToken
from partnerhub.tenancy.context import tenant_context
from tests.conftest import Personas, bearer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def _obtain(client: Client, email: str, tenant: str, password: str = PASSWORD):
    return client.post(
        TOKEN_URL,
        {"email": email, "password": password, "tenant": tenant},
        content_type="application/json",
    )


def test_token_is_bound_to_user_and_tenant_and_me_reports_them(personas: Personas) -> None:
    response = _obtain(Client(), "a.manager@example.test", "alpha")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("ph_")
    assert body["role"] == "partner_manager"
    api = Client(headers={"Authorization": f"Bearer {body['token']}"})
    me = api.get("/api/v1/me/").json()
    assert me["email"] == "a.manager@example.test"
    assert me["tenant"]["slug"] == "alpha"
    assert me["role"] == "partner_manager"
    assert "partners.change" in me["permissions"]
    assert "settlements.approve" not in me["permissions"]


def test_only_the_token_digest_is_stored(personas: Personas) -> None:
    raw = _obtain(Client(), "a.admin@example.test", "alpha").json()["token"]
    with tenant_context(personas.tenant_a):
        token = ApiToken.objects.get()
    assert raw not in (token.digest, token.prefix)
    assert raw.startswith(token.prefix)


@pytest.mark.parametrize(
    ("email", "tenant", "password"),
    [
        ("a.manager@example.test", "alpha", "wrong password"),
        ("a.manager@example.test", "bravo", PASSWORD),  # not a member of bravo
        ("a.manager@example.test", "no-such-tenant", PASSWORD),
        ("nobody@example.test", "alpha", PASSWORD),
    ],
)
def test_bad_credentials_or_foreign_tenant_get_the_same_error(
    personas: Personas, email: str, tenant: str, password: str
) -> None:
    response = _obtain(Client(), email, tenant, password)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400
    assert error["details"]["non_field_errors"] == [
        "Unknown email, wrong password, or no access to that tenant."
    ]


def test_missing_fields_are_named_in_the_error(personas: Personas) -> None:
    response = Client().post(TOKEN_URL, {"email": "x"}, content_type="application/json")
    assert response.status_code == 400
    fields = response.json()["error"]["details"]
    assert set(fields) == {"email", "password", "tenant"}


def test_requests_without_or_with_a_bad_token_are_refused(personas: Personas) -> None:
    assert Client().get("/api/v1/me/").status_code in (401, 403)
    bad = Client(headers={"Authorization": "Bearer ph_not-a-real-token"})
    response = bad.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_stops_working(personas: Personas) -> None:
    api = bearer(personas.a_viewer, personas.tenant_a)
    tokens = api.get("/api/v1/auth/tokens/").json()["results"]
    assert len(tokens) == 1
    assert api.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401


def test_users_list_their_own_tokens_and_admins_list_all(personas: Personas) -> None:
    bearer(personas.a_manager, personas.tenant_a)
    bearer(personas.b_manager, personas.tenant_b)
    manager = bearer(personas.a_manager, personas.tenant_a)
    admin = bearer(personas.a_admin, personas.tenant_a)
    assert {t["user"] for t in manager.get("/api/v1/auth/tokens/").json()["results"]} == {
        "a.manager@example.test"
    }
    users = {t["user"] for t in admin.get("/api/v1/auth/tokens/").json()["results"]}
    assert users == {"a.manager@example.test", "a.admin@example.test"}


def test_another_tenants_token_id_answers_like_a_missing_one(personas: Personas) -> None:
    foreign = bearer(personas.b_manager, personas.tenant_b)
    foreign_id = foreign.get("/api/v1/auth/tokens/").json()["results"][0]["id"]
    admin = bearer(personas.a_admin, personas.tenant_a)
    for response in (
        admin.get(f"/api/v1/auth/tokens/{foreign_id}/"),
        admin.delete(f"/api/v1/auth/tokens/{foreign_id}/"),
        admin.get("/api/v1/auth/tokens/999999/"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert foreign.get("/api/v1/me/").status_code == 200


def test_token_list_runs_a_fixed_number_of_queries(
    personas: Personas, django_assert_max_num_queries
) -> None:
    admin = bearer(personas.a_admin, personas.tenant_a)
    admin.get("/api/v1/auth/tokens/")
    for _ in range(5):
        bearer(personas.a_manager, personas.tenant_a)
    with django_assert_max_num_queries(12) as few:
        admin.get("/api/v1/auth/tokens/")
    for _ in range(20):
        bearer(personas.a_finance, personas.tenant_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(admin.get("/api/v1/auth/tokens/").json()["results"]) == 26


def test_schema_and_swagger_are_served(personas: Personas) -> None:
    schema = Client().get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/auth/token/" in schema.content
    assert b"/api/v1/me/" in schema.content
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
