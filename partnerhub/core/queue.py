"""Background work that survives a broker outage.

The database is the record of every job (a usage import, a KPI measurement import, a finance
export): its row is saved as ``queued`` before anything is published. Publishing the Celery
message is then best effort: when Redis is unreachable, :func:`enqueue` logs it and returns
``False`` instead of failing the user's request, and the page says background work is delayed
(:func:`queue_reachable`, shown by the ``background`` context processor). Once Redis is back,
the beat task :func:`partnerhub.core.tasks.requeue_stale_jobs` publishes every job still queued
after :data:`STALE_AFTER` again, which also recovers messages lost with a Redis restart (the
embedded Redis keeps nothing on disk). Every job's task re-reads its row under a lock and skips a
job that is no longer queued, so a message published twice does the work once.

A job may also name the selector of its *orphans*: rows marked running that no worker runs any
more (a usage import's worker holds a database lock while it runs; a killed worker or a restarted
database drops it). They are published again the same way, and their task resumes them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.apps import apps
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# A publish waits at most about a second for the broker before the request goes on without it.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
BROKER_ERRORS = (OperationalError, ConnectionError, OSError, TimeoutError)
STALE_AFTER = timedelta(minutes=10)
_PROBE_TTL = 10.0  # seconds a broker probe is trusted by one process


@dataclass(frozen=True)
class QueuedJob:
    """A model whose ``queued`` rows a task processes: ``task`` takes ``args(row)``."""

    model: str
    task: str
    arg_order: tuple[str, ...] = ("tenant_id", "pk")
    orphans: str = ""  # dotted path of a selector(created_before=...) of abandoned running rows

    def args(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in self.arg_order)


QUEUED_JOBS: tuple[QueuedJob, ...] = (
    QueuedJob(
        "settlements.UsageImport",
        "settlements.tasks.usage_import_process",
        orphans="settlements.selectors.usage.usage_imports_orphaned",
    ),
    QueuedJob("settlements.SettlementExport", "settlements.tasks.settlement_export_build"),
    QueuedJob("kpis.MeasurementImport", "kpis.tasks.kpi_measurements_import", ("pk", "tenant_id")),
)


def enqueue(task: Any, *args: Any, **options: Any) -> bool:
    """Publish ``task(*args)``; ``False`` (logged, never raised) when the broker is unreachable.

    Use it only for jobs whose row stays ``queued`` in the database, so the requeue task can
    publish them again later.
    """
    try:
        task.apply_async(args, retry=True, retry_policy=PUBLISH_RETRY, **options)
    except BROKER_ERRORS as exc:
        _probe.update(ok=False)
        logger.warning(
            "Queue unreachable; %s%s stays queued in the database (%s)", task.name, args, exc
        )
        return False
    return True


class _Probe:
    """Whether the broker answered, remembered for a few seconds per process."""

    def __init__(self) -> None:
        self.ok = True
        self.at = float("-inf")

    def update(self, *, ok: bool) -> None:
        self.ok, self.at = ok, time.monotonic()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


_probe = _Probe()


def queue_reachable() -> bool:
    """Whether Celery's broker answers (cached for a few seconds, checked in about 1 s at most)."""
    if time.monotonic() - _probe.at < _PROBE_TTL:
        return _probe.ok
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=1
            )
    except BROKER_ERRORS:
        _probe.update(ok=False)
    else:
        _probe.update(ok=True)
    return _probe.ok


def queue_probe_reset() -> None:
    """Forget the last probe (tests, and a worker that just reconnected)."""
    _probe.reset()


def stale_jobs_requeue(*, now: Any, stale_after: timedelta = STALE_AFTER) -> int:
    """Publish again every job of the current tenant queued since before ``now - stale_after``,
    and every orphaned running one created before then; returns how many were published."""
    published = 0
    before = now - stale_after
    for job in QUEUED_JOBS:
        model = apps.get_model(job.model)
        rows: list[Any] = list(
            model.objects.filter(status="queued", created_at__lt=before).only("pk", "tenant_id")
        )
        if job.orphans:
            rows += list(import_string(job.orphans)(created_before=before))
        task = import_string(job.task)  # imports the tasks module (web processes may not have)
        for row in rows:
            if not enqueue(task, *job.args(row)):
                return published  # the broker is still away: try again on the next beat
            published += 1
    return published
