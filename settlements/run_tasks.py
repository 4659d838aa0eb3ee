"""Celery tasks of settlement runs: thin, tenant id explicit, acks late, rejected on worker loss.

``settlement_run_chunk`` computes one chunk of partners (idempotent: a done chunk is skipped,
a chunk interrupted by a dying worker left nothing behind and is recomputed when redelivered);
the last chunk finalizes the run. Beat calls ``settlement_runs_nightly`` (fan-out per tenant).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from partnerhub.core.beat import beat_slot_claim
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant


@shared_task(
    name="settlements.run_tasks.settlement_run_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def settlement_run_chunk(tenant_id: int, chunk_id: int) -> bool:
    from settlements.models import SettlementRunChunk
    from settlements.services.runs import settlement_run_chunk_execute, settlement_run_fail

    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        with tenant_context(tenant):
            return settlement_run_chunk_execute(chunk_id=chunk_id)
    except Exception as exc:
        with tenant_context(tenant):
            run_id = (
                SettlementRunChunk.objects.filter(pk=chunk_id)
                .values_list("run_id", flat=True)
                .first()
            )
            if run_id is not None:
                settlement_run_fail(run_id=run_id, error=f"chunk {chunk_id}: {exc}")
        raise


@shared_task(name="settlements.run_tasks.settlement_runs_nightly", bind=True, ignore_result=True)
def settlement_runs_nightly(self: Any) -> int:
    """Beat entry: one ``settlement_run_nightly_tenant`` per active tenant, once a night."""
    tonight = timezone.now().date().isoformat()
    if not beat_slot_claim("settlement_runs_nightly", tonight, owner=self.request.id):
        return 0  # another beat scheduler fired tonight already
    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        settlement_run_nightly_tenant.delay(tenant_id)
    return len(tenant_ids)


@shared_task(
    name="settlements.run_tasks.settlement_run_nightly_tenant",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def settlement_run_nightly_tenant(tenant_id: int) -> int:
    from settlements.services.runs import settlement_nightly

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        return len(settlement_nightly())
