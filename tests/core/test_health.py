import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from partnerhub.core.tasks import HEARTBEAT_KEY, worker_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_redis_and_a_missing_heartbeat() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["celery"] == {"ok": False, "last_heartbeat": None}
    assert body["status"] == "degraded"


def test_healthz_is_ok_after_a_worker_heartbeat() -> None:
    worker_heartbeat()
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["celery"]["ok"] is True


def test_a_stale_heartbeat_is_reported() -> None:
    cache.set(HEARTBEAT_KEY, (timezone.now() - timezone.timedelta(hours=1)).isoformat())
    assert Client().get("/healthz").json()["checks"]["celery"]["ok"] is False
