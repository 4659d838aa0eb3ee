"""A Celery worker killed during the nightly KPI-drift job: a real worker runs the tenant's job for
a date; its pool process is SIGKILLed while the job is half-way through writing (alerts inserted,
owners being notified, nothing committed). The worker's main process puts the message back
(``acks_late`` + ``reject_on_worker_lost``) and a new pool process runs the job again: alerts,
notifications and emails equal those of a clean single-process run, none of them twice.

Committed data on the suite's test database (a worker is another process), broker = the suite's
Redis, a queue of its own."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psutil
import pytest
from django.core import mail
from django.db import connection, connections

from kpis.drift_tasks import kpi_drift_detect_tenant
from kpis.models import DriftAlert, KpiMeasurement
from kpis.services.drift import kpi_drift_detect
from partnerhub.tenancy.context import tenant_context
from partners.models import Notification
from tests.kpis.test_drift_job import DAY, definition, noisy
from tests.workers import celery_worker, stop, wait_until

PARTNERS = 24
KPIS = 5
SHIFTED_KPIS = 3  # per partner: 72 alerts to write and notify, the window the kill aims at
DAYS = 90


@dataclass(frozen=True)
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    log: Path
    outbox: Path


@pytest.fixture
def worker(django_db_setup, tmp_path) -> Iterator[Worker]:
    """A worker on the test database and a queue of its own, started first: it boots while the
    data is built."""
    database = connections["default"].settings_dict["NAME"]
    env = {
        key: os.environ[key].rsplit("/", 1)[0] + "/" + database
        for key in ("DATABASE_URL", "DATABASE_OWNER_URL")
        if key in os.environ
    }
    outbox = tmp_path / "outbox"
    env["EMAIL_URL"] = f"filemail:///{outbox}"  # an absolute path takes four slashes
    queue, log = f"drift-fault-{os.getpid()}", tmp_path / "worker.log"
    process = celery_worker(queue, log, env)
    try:
        yield Worker(process, queue, log, outbox)
    finally:
        stop(process)


@pytest.fixture
def committed_tenant(worker, django_db_setup, django_db_blocker):
    """A tenant with drifting KPI series, committed so the worker process sees it (transactional
    mode cannot be used: its flush TRUNCATEs the append-only audit log). The test database is
    dropped at the end of the session; the tenant is deactivated after the test."""
    from tests.factories import TenantFactory, UserFactory
    from tests.partners.factories import PartnerFactory

    with django_db_blocker.unblock():
        tenant = TenantFactory(slug=f"drift-fault-{os.getpid()}", timezone="UTC")
        owner = UserFactory(email=f"drift-owner-{os.getpid()}@example.test")
        with tenant_context(tenant):
            kpis = [definition(f"k{k}_calls", name=f"Calls {k}") for k in range(KPIS)]
            partners = [PartnerFactory(account_owner=owner) for _ in range(PARTNERS)]
            first = DAY - timedelta(days=DAYS - 1)
            KpiMeasurement.objects.bulk_create(
                (
                    KpiMeasurement(
                        tenant=tenant,
                        partner=partner,
                        kpi=kpi,
                        date=first + timedelta(days=d),
                        value=Decimal(f"{value:.2f}"),
                        origin="api",
                    )
                    for p, partner in enumerate(partners)
                    for k, kpi in enumerate(kpis)
                    for d, value in enumerate(
                        noisy(
                            DAYS,
                            20,
                            2,
                            seed=p * KPIS + k,
                            step_at=DAYS - 9,
                            step=8.0 if k < SHIFTED_KPIS else 0.0,
                        )
                    )
                ),
                batch_size=5000,
            )
        yield tenant
        type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
        connections.close_all()


def snapshot(tenant) -> tuple[list[tuple], list[tuple]]:
    """The date's alerts and their notifications, without ids and times (which a re-run may
    change); each notification must point at one of the date's alerts."""
    with tenant_context(tenant):
        alerts = DriftAlert.objects.filter(detected_on=DAY)
        by_pk = {a.pk: (a.partner_id, a.kpi.key, a.kind) for a in alerts.select_related("kpi")}
        rows = sorted(
            alerts.values_list(
                "partner_id",
                "kpi__key",
                "kind",
                "direction",
                "size",
                "baseline_value",
                "recent_value",
                "target_value",
                "change_started_on",
                "explanation",
                "owner_id",
                "status",
            )
        )
        notes = []
        for n in Notification.objects.filter(kind="kpi_drift"):
            alert_pk = int(n.dedup_key.removeprefix("drift:"))
            assert alert_pk in by_pk, n.dedup_key  # no notification of a rolled-back alert
            notes.append((by_pk[alert_pk], n.user_id, n.title, n.body, n.partner_id))
    return rows, sorted(notes)


def _writing_notifications() -> bool:
    """The worker's transaction holds a row lock on notifications it has inserted: it is past
    the alerts and notifying, and has not committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM pg_locks
            WHERE relation = 'partners_notification'::regclass AND mode = 'RowExclusiveLock'
              AND granted AND pid <> pg_backend_pid()
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
        )
        return cursor.fetchone()[0] > 0


def _sent_emails(outbox: Path) -> list[str]:
    """The recipients of the emails the worker sent (Django's file backend, one "To:" each)."""
    return [
        line.removeprefix("To: ").strip()
        for path in sorted(outbox.glob("*"))
        for line in path.read_text().splitlines()
        if line.startswith("To: ")
    ]


def test_worker_killed_half_way_through_drift_reruns_to_the_clean_result(
    worker, committed_tenant, django_db_blocker
) -> None:
    tenant, log = committed_tenant, worker.log
    try:
        with django_db_blocker.unblock():
            result = kpi_drift_detect_tenant.apply_async(
                (tenant.pk, DAY.isoformat()), queue=worker.queue
            )
            wait_until(_writing_notifications, 120, "the job to be writing notifications", log)
            (child,) = psutil.Process(worker.process.pid).children()
            os.kill(child.pid, signal.SIGKILL)
            # Killed before its commit: nothing of the interrupted run is visible.
            assert snapshot(tenant) == ([], [])
            wait_until(
                lambda: f"[{result.id}] succeeded" in log.read_text(),
                120,
                "the redelivered job to succeed",
                log,
            )
    finally:
        stop(worker.process)
    worker_log = log.read_text()
    assert "SIGKILL" in worker_log or "signal 9" in worker_log, worker_log[-3000:]
    assert worker_log.count(f"[{result.id}] received") == 2  # the same message, delivered again

    with django_db_blocker.unblock():
        faulted = snapshot(tenant)
        emails = _sent_emails(worker.outbox)
        # The clean run: the same date computed again in one process, from scratch.
        with tenant_context(tenant):
            Notification.objects.filter(kind="kpi_drift").delete()
            DriftAlert.objects.filter(detected_on=DAY).delete()
        mail.outbox = []
        with tenant_context(tenant):
            clean_run = kpi_drift_detect(day=DAY)
        clean = snapshot(tenant)

    alerts, notes = faulted
    assert len(alerts) == len(clean_run.created) == PARTNERS * SHIFTED_KPIS
    assert len({a[:3] for a in alerts}) == len(alerts)  # no alert twice
    assert faulted == clean
    assert len(notes) == len(alerts)
    # Emails go out after the commit: only the run that committed sent them, one per alert.
    assert sorted(emails) == sorted(m.to[0] for m in mail.outbox)
    assert len(emails) == len(alerts)
