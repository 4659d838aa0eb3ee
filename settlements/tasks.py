"""Celery tasks of the settlements app (usage imports, exports). Thin: ids in, a service call.

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
