from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "celery:worker-heartbeat"


@shared_task(name="partnerhub.core.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Scheduled by beat every 30 s; /healthz reports how long ago a worker ran it."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
