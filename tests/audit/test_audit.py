"""The audit trail: who, when, which object, each field before/after; append-only."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from partnerhub.accounts.roles import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Membership
from partnerhub.tenancy.services import membership_set
from tests.conftest import Personas, bearer, login

pytestmark = pytest.mark.django_db


def test_changes_are_recorded_with_before_and_after(personas: Personas) -> None:
    membership_set(tenant=personas.tenant_a, user=personas.a_viewer, role=Role.FINANCE)
    with tenant_context(personas.tenant_a):
        membership = Membership.objects.get(user=personas.a_viewer)
        entry = AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Membership),
            object_pk=str(membership.pk),
            action=AuditEntry.Action.UPDATE,
        ).get()
    assert entry.changes["role"] == ["viewer", "finance"]
    assert entry.tenant_id == personas.tenant_a.pk


def test_deletes_are_recorded(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        membership = Membership.objects.get(user=personas.a_viewer)
        pk = membership.pk
        membership.delete()
        assert AuditEntry.objects.filter(
            object_pk=str(pk), action=AuditEntry.Action.DELETE
        ).exists()


def test_api_changes_record_the_acting_user(personas: Personas) -> None:
    api = bearer(personas.a_manager, personas.tenant_a)
    token_id = api.get("/api/v1/auth/tokens/").json()["results"][0]["id"]
    api.delete(f"/api/v1/auth/tokens/{token_id}/")
    with tenant_context(personas.tenant_a):
        entry = AuditEntry.objects.filter(
            object_pk=str(token_id), action=AuditEntry.Action.UPDATE
        ).get()
    assert entry.actor_id == personas.a_manager.pk
    assert "revoked_at" in entry.changes


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditentry SET object_repr = 'x'", "DELETE FROM audit_auditentry"]
)
def test_the_database_refuses_to_rewrite_history(personas: Personas, statement: str) -> None:
    with tenant_context(personas.tenant_a):
        assert AuditEntry.objects.exists()
        with (
            pytest.raises((InternalError, ProgrammingError), match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


def test_audit_api_is_for_tenant_admins_and_shows_only_their_tenant(personas: Personas) -> None:
    admin = bearer(personas.a_admin, personas.tenant_a)
    entries = admin.get("/api/v1/audit/?model=tenancy.membership&page_size=100").json()["results"]
    emails = {e["object_repr"].split(" in ")[0] for e in entries}
    assert "b.manager@example.test" not in " ".join(emails)
    assert len(entries) == 5  # four staff and the partner user
    assert bearer(personas.a_manager, personas.tenant_a).get("/api/v1/audit/").status_code == 403
    assert bearer(personas.a_viewer, personas.tenant_a).get("/api/v1/audit/").status_code == 403


def test_audit_page_filters_by_object(personas: Personas) -> None:
    client = login(personas.a_admin)
    response = client.get("/audit/?model=tenancy.membership")
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 5
    assert login(personas.a_viewer).get("/audit/").status_code == 403
