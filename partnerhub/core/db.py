"""Telling a lost database from a failed piece of work, for tasks that retry the former."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections


def database_lost(exc: BaseException, *, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether ``exc`` came from losing the database (server restarted or failed over, connection
    cut) rather than from the work itself. The dead connection is closed, so the next query
    opens a new one."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    db = connections[using]
    if db.connection is not None and db.is_usable():
        return False  # the session is fine: the statement itself failed
    db.close()
    return True
