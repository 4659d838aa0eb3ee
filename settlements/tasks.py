"""Celery tasks of the settlements app (usage imports, exports). Thin: ids in, a service call.

The settlement-run tasks live in ``settlements/run_tasks.py``.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import DatabaseError

from partnerhub.core.db import database_lost
from partnerhub.tenancy.models import Tenant
from settlements.services.usage_import import usage_import_fail, usage_import_run

logger = logging.getLogger(__name__)

# Retries when the database goes away mid-import (restart, failover): 1 + 2 + 4 + 8 + 16 s.
DATABASE_RETRIES = 5


@shared_task(
    name="settlements.tasks.usage_import_process",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=DATABASE_RETRIES,
)
def usage_import_process(self: Any, tenant_id: int, import_id: int) -> None:
    """Process one stored usage CSV import; safe to re-run (services/usage_import.py says how).

    Retried with backoff when the database was lost under it; any other error, or a database
    still away after the retries, marks the import failed.
    """
    try:
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is None:
            return
        usage_import_run(tenant=tenant, import_id=import_id)
    except Exception as exc:
        lost = database_lost(exc)
        if lost and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
        try:
            tenant = Tenant.objects.get(pk=tenant_id)
            usage_import_fail(
                tenant=tenant, import_id=import_id, error=f"{type(exc).__name__}: {exc}".strip()
            )
        except DatabaseError:
            # Still away: the import stays "running" with no worker holding its lock, and the
            # stale-jobs beat task publishes it again once the database is back.
            logger.warning("Usage import %s could not be marked failed", import_id, exc_info=True)
        raise


@shared_task(
    name="settlements.tasks.settlement_export_build",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def settlement_export_build(tenant_id: int, export_id: int) -> None:
    """Build one export's file; a finished export is left as it is (safe to redeliver)."""
    from settlements.services.exports import settlement_export_fail, settlement_export_run

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    try:
        settlement_export_run(tenant=tenant, export_id=export_id)
    except Exception as exc:
        settlement_export_fail(
            tenant=tenant, export_id=export_id, error=f"{type(exc).__name__}: {exc}"
        )
        raise
