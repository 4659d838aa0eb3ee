from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "celery:worker-heartbeat"


@shared_task(name="partnerhub.core.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Scheduled by beat every 30 s; /healthz reports how long ago a worker ran it."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)


@shared_task(name="partnerhub.core.tasks.requeue_stale_jobs", ignore_result=True)
def requeue_stale_jobs() -> int:
    """Scheduled by beat every 5 minutes: publish again the jobs still queued in the database
    (their message was never published, or was lost with a Redis restart) and the usage imports
    left running by a lost worker or a restarted database."""
    from partnerhub.core.queue import stale_jobs_requeue
    from partnerhub.tenancy.context import tenant_context
    from partnerhub.tenancy.models import Tenant

    published = 0
    now = timezone.now()
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        with tenant_context(tenant):
            published += stale_jobs_requeue(now=now)
    return published
