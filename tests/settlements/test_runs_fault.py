"""A real Celery worker computes a run; SIGKILL it half-way, resume with a new worker: the
statements equal those of a clean single-process run (transactional test on the test database,
broker = the embedded Redis of REDIS_URL, a queue of its own so no other worker takes the tasks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.db import connections

from partnerhub.celery import app
from partnerhub.tenancy.context import tenant_context
from settlements.models import SettlementRun, Statement
from settlements.services.runs import (
    settlement_run_execute,
    settlement_run_resume,
    settlement_run_start,
)
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import PCT30, assign, make_plan, snapshot, usage

OCT = date(2026, 10, 1)
ROOT = Path(__file__).resolve().parents[2]


def broker_url() -> str:
    """Kombu has no ``unix://`` transport: a Redis socket URL becomes ``redis+socket://``."""
    url = os.environ["REDIS_URL"]
    if url.startswith("unix://"):
        path, _, query = url[len("unix://") :].partition("?")
        db = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("db", "0")
        return f"redis+socket://{path}?virtual_host={db}"
    return url


def _worker(queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["CELERY_BROKER_URL"] = broker_url()
    name = connections["default"].settings_dict["NAME"]
    for key in ("DATABASE_URL", "DATABASE_OWNER_URL"):
        if key in env:
            env[key] = env[key].rsplit("/", 1)[0] + "/" + name
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "partnerhub",
            "worker",
            "-Q",
            queue,
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "-I",
            "settlements.run_tasks",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-6000:]}")


@pytest.fixture
def committed_tenant(django_db_setup, django_db_blocker, settings):
    """A tenant whose data is committed, so a worker process sees it. pytest-django's
    transactional mode cannot be used: its flush TRUNCATEs the append-only audit log, which the
    database refuses. The per-run test database is dropped at the end of the session; the tenant
    is deactivated at the end of the test so no other test's nightly job picks it up."""
    from tests.factories import TenantFactory

    with django_db_blocker.unblock():
        tenant = TenantFactory(slug=f"fault-{os.getpid()}", timezone="UTC")
        yield tenant
        type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
        connections.close_all()


def test_sigkill_half_way_then_resume_equals_a_clean_run(committed_tenant, tmp_path, settings):
    tenant = committed_tenant
    queue = f"settle-fault-{os.getpid()}"
    settings.SETTLEMENT_RUN_QUEUE = queue
    app.conf.broker_url = broker_url()
    log = tmp_path / "worker.log"
    with tenant_context(tenant):
        plans = [make_plan(), make_plan({**PCT30, "minimum_guarantee": "50.00"})]
        partners = [PartnerFactory() for _ in range(24)]
        for i, partner in enumerate(partners):
            assign(partner, plans[i % 2])
            for j in range(3):
                usage(partner, f"p{j}", f"{i + 1}{j}.{i % 10}{j}")
        run = settlement_run_start(month=OCT, chunk_size=1)

    def done_chunks() -> int:
        with tenant_context(tenant):
            return SettlementRun.objects.get(pk=run.pk).chunks_done

    worker = _worker(queue, log)
    try:
        _wait(lambda: done_chunks() >= 3, 90, "three chunks", log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        halfway = done_chunks()
        assert 3 <= halfway < 24, halfway
        with tenant_context(tenant):
            assert SettlementRun.objects.get(pk=run.pk).status == SettlementRun.Status.RUNNING
            settlement_run_resume(run=SettlementRun.objects.get(pk=run.pk))
        worker = _worker(queue, log)

        def finished() -> bool:
            with tenant_context(tenant):
                return SettlementRun.objects.get(pk=run.pk).status == SettlementRun.Status.DONE

        _wait(finished, 180, "the resumed run", log)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    with tenant_context(tenant):
        faulted = snapshot()
        assert len(faulted) == 24
        clean = settlement_run_execute(
            run=settlement_run_start(month=OCT, chunk_size=1000, enqueue=False)
        )
        assert clean.status == SettlementRun.Status.DONE
        assert snapshot() == faulted
        assert Statement.objects.filter(month=OCT).count() == 24
