"""A real Celery worker computes a run; SIGKILL it half-way, resume with a new worker: the
statements equal those of a clean single-process run (transactional test on the test database,
broker = the embedded Redis of REDIS_URL, a queue of its own so no other worker takes the tasks).
Two chunks of a run compute at the same time, as two workers would (committed data, threads)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
from datetime import date
from pathlib import Path

import pytest
from django.db import connection, connections

from partnerhub.celery import app
from partnerhub.tenancy.context import tenant_context
from settlements.models import SettlementRun, Statement
from settlements.services import runs as runs_module
from settlements.services.runs import (
    settlement_run_chunk_execute,
    settlement_run_execute,
    settlement_run_resume,
    settlement_run_start,
)
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import PCT30, assign, make_plan, snapshot, usage
from tests.workers import broker_url, celery_worker, wait_until

OCT = date(2026, 10, 1)


def _worker(queue: str, log: Path) -> subprocess.Popen[bytes]:
    """A worker on the test database (its name is this process's own)."""
    name = connections["default"].settings_dict["NAME"]
    env = {
        key: os.environ[key].rsplit("/", 1)[0] + "/" + name
        for key in ("DATABASE_URL", "DATABASE_OWNER_URL")
        if key in os.environ
    }
    return celery_worker(queue, log, env)


_tenants = itertools.count()


@pytest.fixture
def committed_tenant(django_db_setup, django_db_blocker, settings):
    """A tenant whose data is committed, so a worker process sees it. pytest-django's
    transactional mode cannot be used: its flush TRUNCATEs the append-only audit log, which the
    database refuses. The per-run test database is dropped at the end of the session; the tenant
    is deactivated at the end of the test so no other test's nightly job picks it up."""
    from tests.factories import TenantFactory

    with django_db_blocker.unblock():
        tenant = TenantFactory(slug=f"fault-{os.getpid()}-{next(_tenants)}", timezone="UTC")
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
        wait_until(lambda: done_chunks() >= 3, 90, "three chunks", log)
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

        wait_until(finished, 180, "the resumed run", log)
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


def test_two_chunks_compute_at_the_same_time(committed_tenant, monkeypatch):
    """While one chunk is half-way (computed, transaction open), another chunk of the same run
    computes and commits without waiting for it; the later one finalizes the run. Locking the
    run's row for the whole chunk made every chunk of a fan-out wait for the one before."""
    tenant = committed_tenant
    with tenant_context(tenant):
        plan = make_plan()
        for i in range(4):
            partner = PartnerFactory()
            assign(partner, plan)
            usage(partner, "music", f"{i + 1}0.00")
        run = settlement_run_start(month=OCT, chunk_size=2, enqueue=False)
        first, second = run.chunks.order_by("index").values_list("pk", flat=True)
    halfway, release, errors = threading.Event(), threading.Event(), []
    real_build = runs_module.statements_build

    def build_then_wait(**kwargs):
        result = real_build(**kwargs)
        if threading.current_thread() is holder:
            halfway.set()
            release.wait(30)
        return result

    def compute_first() -> None:
        try:
            with tenant_context(tenant):
                settlement_run_chunk_execute(chunk_id=first)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            halfway.set()
            connections.close_all()

    monkeypatch.setattr(runs_module, "statements_build", build_then_wait)
    holder = threading.Thread(target=compute_first)
    holder.start()
    try:
        assert halfway.wait(30)
        with tenant_context(tenant):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '5s'")
            assert settlement_run_chunk_execute(chunk_id=second)
        with tenant_context(tenant):
            assert SettlementRun.objects.get(pk=run.pk).chunks_done == 1
    finally:
        release.set()
        holder.join(30)
    assert not errors
    with tenant_context(tenant):
        assert SettlementRun.objects.get(pk=run.pk).status == SettlementRun.Status.DONE
        fanned = snapshot()
        assert len(fanned) == 4
        settlement_run_execute(run=settlement_run_start(month=OCT, enqueue=False))
        assert snapshot() == fanned


def test_chunk_of_a_run_that_failed_meanwhile_leaves_nothing(committed_tenant, monkeypatch):
    """Another chunk's error fails the run while this chunk computes: this chunk is rolled
    back (no statements, not done) and the run stays failed instead of running again."""
    from settlements.services.runs import settlement_run_fail

    tenant = committed_tenant
    with tenant_context(tenant):
        plan = make_plan()
        for i in range(2):
            partner = PartnerFactory()
            assign(partner, plan)
            usage(partner, "music", f"{i + 1}0.00")
        run = settlement_run_start(month=OCT, chunk_size=1, enqueue=False)
        chunk = run.chunks.order_by("index").first()
    real_build = runs_module.statements_build

    def fail_elsewhere() -> None:
        with tenant_context(tenant):
            settlement_run_fail(run_id=run.pk, error="chunk elsewhere: boom")
        connections.close_all()

    def build_while_the_run_fails(**kwargs):
        result = real_build(**kwargs)
        other = threading.Thread(target=fail_elsewhere)
        other.start()
        other.join(30)
        return result

    monkeypatch.setattr(runs_module, "statements_build", build_while_the_run_fails)
    with tenant_context(tenant):
        assert settlement_run_chunk_execute(chunk_id=chunk.pk) is False
    with tenant_context(tenant):
        failed = SettlementRun.objects.get(pk=run.pk)
        assert failed.status == SettlementRun.Status.FAILED
        assert failed.chunks_done == 0
        assert not run.chunks.filter(done=True).exists()
        assert not Statement.objects.filter(month=OCT).exists()
