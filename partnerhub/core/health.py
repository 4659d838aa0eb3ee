"""/healthz: database, Redis and the last Celery worker heartbeat."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from partnerhub.core.tasks import HEARTBEAT_KEY


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    heartbeat: str | None = None
    try:
        cache.set("healthz:ping", "1", timeout=10)
        checks["redis"] = {"ok": cache.get("healthz:ping") == "1"}
        heartbeat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    if heartbeat:
        age = (timezone.now() - datetime.fromisoformat(heartbeat)).total_seconds()
        checks["celery"] = {
            "ok": age <= settings.CELERY_HEARTBEAT_MAX_AGE,
            "last_heartbeat": heartbeat,
            "age_seconds": round(age, 1),
        }
    else:
        checks["celery"] = {"ok": False, "last_heartbeat": None}
    # Web serves while the worker is late; database and Redis are what make it unhealthy.
    healthy = checks["database"]["ok"] and checks["redis"]["ok"]
    status = "ok" if healthy and checks["celery"]["ok"] else ("degraded" if healthy else "down")
    return JsonResponse({"status": status, "checks": checks}, status=200 if healthy else 503)
