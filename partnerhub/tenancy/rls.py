"""Row-level security for every tenant-owned table, applied after each ``migrate``.

Nobody has to remember to write a policy: every model with a ``tenant`` foreign key gets

* RLS enabled and forced, with a policy on ``current_setting('app.tenant_id', true)``;
* a unique ``(tenant_id, id)`` key, and
* for each foreign key to another tenant-owned model, a composite foreign key
  ``(tenant_id, <fk>) -> (tenant_id, id)``, so no row can point at another tenant's row.

A model may set ``rls_tenant_key = False`` (a table partitioned on another column: PostgreSQL
refuses a unique index without the partition key): its table gets RLS but no ``(tenant_id, id)``
key, so it cannot be the target of a composite foreign key. A bulk-loaded table may also set
``rls_tenant_fks = False`` when its loader checks the references set-based (a foreign key costs
a trigger per inserted row); RLS still applies.

Everything is idempotent, so it runs after every migrate (including the test database).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import ForeignKey, Model

POLICY_NAME = "tenant_isolation"
EXTRA_READ_POLICY_NAME = "tenant_isolation_extra_read"
TENANT_EXPR = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def tenant_owned_models() -> list[type[Model]]:
    """Concrete, managed models with a ``tenant`` foreign key to ``tenancy.Tenant``."""
    tenant_model = apps.get_model("tenancy", "Tenant")
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.abstract or meta.proxy or not meta.managed:
            continue
        field = next((f for f in meta.concrete_fields if f.name == "tenant"), None)
        if isinstance(field, ForeignKey) and field.related_model is tenant_model:
            found.append(model)
    return found


def has_tenant_key(model: type[Model]) -> bool:
    """False for models that opt out of the ``(tenant_id, id)`` key (``rls_tenant_key = False``)."""
    return bool(getattr(model, "rls_tenant_key", True))


def _name(*parts: str, suffix: str) -> str:
    """A constraint name within PostgreSQL's 63 characters, stable for the same inputs."""
    base = "_".join(parts)
    digest = hashlib.sha1(base.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{base[:40]}_{digest}_{suffix}"


def _statements(model: type[Model], tenant_tables: set[str], existing: set[str]) -> Iterable[str]:
    table = model._meta.db_table
    qt = f'"{table}"'
    extra = getattr(model, "rls_extra_using", None)
    yield f"ALTER TABLE {qt} ENABLE ROW LEVEL SECURITY"
    yield f"ALTER TABLE {qt} FORCE ROW LEVEL SECURITY"
    yield f"DROP POLICY IF EXISTS {POLICY_NAME} ON {qt}"
    yield f"DROP POLICY IF EXISTS {EXTRA_READ_POLICY_NAME} ON {qt}"
    yield f"CREATE POLICY {POLICY_NAME} ON {qt} USING ({TENANT_EXPR}) WITH CHECK ({TENANT_EXPR})"
    if extra:
        # Only widens what may be *read* (own memberships, the token whose secret is held);
        # updates and deletes stay limited to the active tenant.
        yield f"CREATE POLICY {EXTRA_READ_POLICY_NAME} ON {qt} FOR SELECT USING ({extra})"
    if has_tenant_key(model):
        index = _name(table, suffix="tid")
        yield f'CREATE UNIQUE INDEX IF NOT EXISTS "{index}" ON {qt} (tenant_id, id)'
    for field in model._meta.concrete_fields if getattr(model, "rls_tenant_fks", True) else ():
        if not isinstance(field, ForeignKey) or field.name == "tenant":
            continue
        target = field.related_model._meta.db_table  # type: ignore[union-attr]
        if target not in tenant_tables or field.target_field.column != "id":
            continue
        name = _name(table, field.column, suffix="ten")
        if name in existing:
            continue
        yield (
            f'ALTER TABLE {qt} ADD CONSTRAINT "{name}" FOREIGN KEY (tenant_id, "{field.column}") '
            f'REFERENCES "{target}" (tenant_id, id) DEFERRABLE INITIALLY DEFERRED'
        )


def _grant_app_role(connection: BaseDatabaseWrapper, cursor: Any) -> None:
    """Table privileges for the application role, in whatever database was migrated.

    deploy/roles.sql sets default privileges for the main database; test and e2e databases are
    new databases without them, so grant here too (idempotent).
    """
    from django.conf import settings

    app_role = settings.DATABASES["default"].get("USER")
    if not app_role or app_role == connection.settings_dict.get("USER"):
        return
    role = connection.ops.quote_name(app_role)
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")


def sync_row_level_security(connection: BaseDatabaseWrapper) -> None:
    models = tenant_owned_models()
    # Composite foreign keys can only point at tables that carry the (tenant_id, id) key.
    tenant_tables = {m._meta.db_table for m in models if has_tenant_key(m)}
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        cursor.execute("SELECT conname FROM pg_constraint")
        existing = {row[0] for row in cursor.fetchall()}
        # Referenced keys first: the composite foreign keys need every (tenant_id, id) index.
        todo = [m for m in models if m._meta.db_table in present]
        statements = [s for m in todo for s in _statements(m, tenant_tables, existing)]
        statements.sort(key=lambda s: "ADD CONSTRAINT" in s)
        for statement in statements:
            cursor.execute(statement)
        _grant_app_role(connection, cursor)


def sync_after_migrate(sender: Any, using: str, **kwargs: Any) -> None:
    # post_migrate is sent per app once every migration has run; the work is global: do it once.
    if sender.label == "tenancy":
        sync_row_level_security(connections[using])
