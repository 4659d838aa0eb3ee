"""The active tenant of this request or task.

It lives in a ``contextvar`` (safe for threads and async) and is mirrored into the database
session as ``app.tenant_id`` with ``set_config(..., true)``, i.e. local to the current
transaction, which is what the row-level security policies read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connections, transaction

if TYPE_CHECKING:
    from partnerhub.tenancy.models import Tenant

DB_ALIAS = "default"
TENANT_SETTING = "app.tenant_id"
USER_SETTING = "app.user_id"
TOKEN_SETTING = "app.token_digest"  # noqa: S105 - a setting name

_current_tenant: ContextVar[Tenant | None] = ContextVar("partnerhub_tenant", default=None)


class NoActiveTenant(RuntimeError):
    """Raised when tenant-owned data is queried without an active tenant."""


def get_current_tenant() -> Tenant | None:
    return _current_tenant.get()


def require_current_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise NoActiveTenant(
            "No active tenant: wrap the code in tenant_context(tenant) "
            "(requests get one from TenantMiddleware, tasks from their tenant_id argument)."
        )
    return tenant


def set_db_setting(name: str, value: object | None, *, using: str = DB_ALIAS) -> None:
    """Set a transaction-local setting read by the RLS policies ('' means unset)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name} must be set inside a transaction (transaction.atomic).")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true)", [name, "" if value is None else str(value)]
        )


def activate(tenant: Tenant | None) -> None:
    """Make ``tenant`` current for the rest of the enclosing scope (request or tenant_context).

    Callers own the reset: TenantMiddleware and tenant_context restore the previous value.
    """
    _current_tenant.set(tenant)
    set_db_setting(TENANT_SETTING, tenant.pk if tenant else None)


@contextmanager
def tenant_scope() -> Iterator[None]:
    """Restore the tenant that was current on entry, whatever ``activate`` did inside."""
    token = _current_tenant.set(_current_tenant.get())
    try:
        yield
    finally:
        _current_tenant.reset(token)


@contextmanager
def tenant_context(tenant: Tenant, *, using: str = DB_ALIAS) -> Iterator[Tenant]:
    """Run a block as ``tenant``: ORM scope and database RLS setting, in one transaction."""
    previous = _current_tenant.get()
    token = _current_tenant.set(tenant)
    try:
        with transaction.atomic(using=using):
            set_db_setting(TENANT_SETTING, tenant.pk, using=using)
            try:
                yield tenant
            finally:
                connection = connections[using]
                # Inside an outer transaction the local setting would outlive this block.
                if connection.in_atomic_block and not connection.needs_rollback:
                    set_db_setting(TENANT_SETTING, previous.pk if previous else None, using=using)
    finally:
        _current_tenant.reset(token)
