"""Celery tasks of the settlements app (usage imports). Thin: ids in, a service call, no logic.

The settlement-run tasks live in ``settlements/run_tasks.py``.
"""

from __future__ import annotations

from celery import shared_task

from partnerhub.tenancy.models import Tenant
from settlements.services.usage_import import usage_import_fail, usage_import_run


@shared_task(
    name="settlements.tasks.usage_import_process",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
)
def usage_import_process(self: object, tenant_id: int, import_id: int) -> None:
    """Process one stored usage CSV import; safe to re-run (it resumes after the last batch)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    try:
        usage_import_run(tenant=tenant, import_id=import_id)
    except Exception as exc:
        usage_import_fail(tenant=tenant, import_id=import_id, error=f"{type(exc).__name__}: {exc}")
        raise
