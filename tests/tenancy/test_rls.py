"""Row-level security: the database's own wall, checked in the catalog and with raw SQL."""

from __future__ import annotations

import pytest
from django.db import connection, connections, transaction
from django.db.utils import ProgrammingError

from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.rls import tenant_owned_models
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def _tables_with_tenant_id() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
              AND t.table_type = 'BASE TABLE'
            ORDER BY 1
            """
        )
        return [row[0] for row in cursor.fetchall()]


def test_every_table_with_a_tenant_id_has_rls_enabled_forced_and_a_policy() -> None:
    tables = _tables_with_tenant_id()
    assert {"tenancy_membership", "accounts_apitoken", "audit_auditentry"} <= set(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname = ANY(%s)
            """,
            [tables],
        )
        rows = {name: flags for name, *flags in cursor.fetchall()}
    missing = [t for t in tables if rows.get(t) != [True, True, True]]
    assert missing == [], f"tables with tenant_id but without forced RLS + policy: {missing}"


def test_every_tenant_owned_model_is_covered_by_the_catalog_check() -> None:
    tables = set(_tables_with_tenant_id())
    assert {m._meta.db_table for m in tenant_owned_models()} <= tables


def test_app_role_is_not_superuser_has_no_bypassrls_and_owns_no_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tableowner = current_user"
        )
        assert cursor.fetchone() == (0,)
    assert connection.settings_dict["USER"] != connections["owner"].settings_dict["USER"]


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def test_raw_sql_with_tenant_a_set_sees_none_of_tenant_b(personas: Personas) -> None:
    with tenant_context(personas.tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM tenancy_membership")
        assert [row[0] for row in cursor.fetchall()] == [personas.tenant_a.pk]
        cursor.execute("SELECT DISTINCT tenant_id FROM audit_auditentry")
        assert [row[0] for row in cursor.fetchall()] == [personas.tenant_a.pk]


def test_raw_sql_without_a_tenant_sees_nothing(personas: Personas) -> None:
    with transaction.atomic():
        assert _count("audit_auditentry") == 0
        assert _count("accounts_apitoken") == 0
        assert _count("tenancy_membership") == 0


def test_writing_a_row_for_another_tenant_is_refused_by_the_database(personas: Personas) -> None:
    with (
        tenant_context(personas.tenant_a),
        connection.cursor() as cursor,
        pytest.raises(ProgrammingError, match="row-level security"),
        transaction.atomic(),
    ):
        cursor.execute(
            "INSERT INTO tenancy_membership (tenant_id, user_id, role, created_at) "
            "VALUES (%s, %s, 'admin', now())",
            [personas.tenant_b.pk, personas.a_admin.pk],
        )


def test_updating_another_tenants_rows_changes_nothing(personas: Personas) -> None:
    with tenant_context(personas.tenant_a), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenancy_membership SET role = 'viewer' WHERE tenant_id = %s",
            [personas.tenant_b.pk],
        )
        assert cursor.rowcount == 0
    with tenant_context(personas.tenant_b), connection.cursor() as cursor:
        cursor.execute("SELECT role FROM tenancy_membership")
        assert [row[0] for row in cursor.fetchall()] == ["partner_manager"]


def test_extra_read_conditions_never_widen_writes(personas: Personas) -> None:
    """A user sees their own memberships in every tenant, but may only change the active one's."""
    from partnerhub.accounts.roles import Role
    from partnerhub.tenancy.context import USER_SETTING, set_db_setting
    from partnerhub.tenancy.services import membership_set

    membership_set(tenant=personas.tenant_b, user=personas.a_manager, role=Role.VIEWER)
    with tenant_context(personas.tenant_a), connection.cursor() as cursor:
        set_db_setting(USER_SETTING, personas.a_manager.pk)
        cursor.execute(
            "SELECT count(*) FROM tenancy_membership WHERE user_id = %s", [personas.a_manager.pk]
        )
        assert cursor.fetchone() == (2,)
        cursor.execute(
            "DELETE FROM tenancy_membership WHERE tenant_id = %s", [personas.tenant_b.pk]
        )
        assert cursor.rowcount == 0
        cursor.execute(
            "UPDATE tenancy_membership SET role = 'admin' WHERE tenant_id = %s",
            [personas.tenant_b.pk],
        )
        assert cursor.rowcount == 0
