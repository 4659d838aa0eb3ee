"""Celery tasks of the partners app: thin, carrying the tenant id, idempotent."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from django.utils import timezone

from partnerhub.core.beat import beat_slot_claim
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partners.services.reminders import reminders_run


@shared_task(name="partners.tasks.partners_daily_reminders", bind=True, ignore_result=True)
def partners_daily_reminders(self: Any, on_date_iso: str | None = None) -> int:
    """Daily (beat): one reminders task per active tenant, all for the same day."""
    on = on_date_iso or timezone.localdate().isoformat()
    if on_date_iso is None and not beat_slot_claim(
        "partners_daily_reminders", on, owner=self.request.id
    ):
        return 0  # another beat scheduler fired this day already
    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        partners_reminders_for_tenant.delay(tenant_id, on)
    return len(tenant_ids)


@shared_task(
    name="partners.tasks.partners_reminders_for_tenant",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def partners_reminders_for_tenant(tenant_id: int, on_date_iso: str) -> dict[str, int]:
    """The reminders of one tenant for one day (safe to re-run: dedup keys)."""
    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return {}
    with tenant_context(tenant):
        return reminders_run(on=date.fromisoformat(on_date_iso))
