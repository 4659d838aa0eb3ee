"""Usage imports that stop half-way (in-process; the real PostgreSQL restart under a real worker is
test_usage_import_fault.py): what stays of them by policy, the re-run, the worker lock that tells
an abandoned import from one in progress, and the stale-jobs beat task that publishes it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connections
from django.utils import timezone

from partnerhub.core.queue import stale_jobs_requeue
from partnerhub.tenancy.context import tenant_context
from settlements.models import Product, UsageImport, UsageRecord
from settlements.services import usage_import as service
from settlements.services.usage_import import (
    MAX_ATTEMPTS,
    usage_import_create,
    usage_import_fail,
    usage_import_run,
)
from settlements.tasks import usage_import_process
from tests.settlements.test_usage_import import csv_of

ROWS = 12
BATCH = 5


@pytest.fixture
def products(personas) -> None:
    with tenant_context(personas.tenant_a):
        Product.objects.create(tenant=personas.tenant_a, code="sms", name="SMS")


@pytest.fixture
def failing_second_batch(monkeypatch) -> None:
    """The database goes away during the second batch."""
    real = service._insert_batch
    calls = []

    def insert_batch(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise OperationalError("terminating connection due to administrator command")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "_insert_batch", insert_batch)


def _import(personas, policy: str) -> UsageImport:
    p = personas.a_partner.pk
    data = csv_of(*(f"{p},sms,2026-01-10T10:00:00Z,{i},{i}.50,0,EUR,r{i}" for i in range(ROWS)))
    with tenant_context(personas.tenant_a):
        return usage_import_create(file=SimpleUploadedFile("u.csv", data), policy=policy)


def _state(personas, usage_import: UsageImport) -> tuple[str, int, int, int, str]:
    with tenant_context(personas.tenant_a):
        row = UsageImport.objects.get(pk=usage_import.pk)
        records = UsageRecord.objects.filter(usage_import=row).count()
    return row.status, row.rows_processed, records, row.attempts, row.error


def test_all_or_nothing_stopped_half_way_leaves_nothing_and_reruns_from_scratch(
    personas, products, failing_second_batch
) -> None:
    imp = _import(personas, "all_or_nothing")
    with pytest.raises(OperationalError):
        usage_import_run(tenant=personas.tenant_a, import_id=imp.pk, batch_size=BATCH)
    # The first batch went in, but in the transaction of the whole import: rolled back.
    assert _state(personas, imp)[:4] == ("running", 0, 0, 1)
    done = usage_import_run(tenant=personas.tenant_a, import_id=imp.pk, batch_size=BATCH)
    assert (done.status, done.inserted, done.duplicates) == ("done", ROWS, 0)
    assert _state(personas, imp) == ("done", ROWS, ROWS, 2, "")


def test_partial_stopped_half_way_keeps_its_committed_batch_and_resumes(
    personas, products, failing_second_batch
) -> None:
    imp = _import(personas, "partial")
    with pytest.raises(OperationalError):
        usage_import_run(tenant=personas.tenant_a, import_id=imp.pk, batch_size=BATCH)
    assert _state(personas, imp)[:4] == ("running", BATCH, BATCH, 1)
    done = usage_import_run(tenant=personas.tenant_a, import_id=imp.pk, batch_size=BATCH)
    assert (done.status, done.inserted, done.duplicates) == ("done", ROWS, 0)
    assert _state(personas, imp) == ("done", ROWS, ROWS, 2, "")


@pytest.mark.parametrize(
    ("policy", "stays"),
    [
        ("all_or_nothing", "Nothing was imported (all or nothing)"),
        ("partial", f"Rows 1 to {BATCH} were processed and the {BATCH} record(s) they added stay"),
    ],
)
def test_a_failed_import_says_what_stays_of_it(
    personas, products, failing_second_batch, policy, stays
) -> None:
    imp = _import(personas, policy)
    with pytest.raises(OperationalError):
        usage_import_run(tenant=personas.tenant_a, import_id=imp.pk, batch_size=BATCH)
    usage_import_fail(tenant=personas.tenant_a, import_id=imp.pk, error="OperationalError: gone")
    status, processed, records, _, error = _state(personas, imp)
    assert status == "failed"
    assert error.startswith("OperationalError: gone") and stays in error
    assert processed == records == (0 if policy == "all_or_nothing" else BATCH)


def test_an_import_stopped_too_often_is_given_up(personas, products) -> None:
    imp = _import(personas, "all_or_nothing")
    with tenant_context(personas.tenant_a):
        UsageImport.objects.filter(pk=imp.pk).update(status="running", attempts=MAX_ATTEMPTS)
    usage_import_run(tenant=personas.tenant_a, import_id=imp.pk)
    status, _, records, attempts, error = _state(personas, imp)
    assert (status, records, attempts) == ("failed", 0, MAX_ATTEMPTS)
    assert f"stopped {MAX_ATTEMPTS} times" in error and "Nothing was imported" in error


@pytest.fixture
def other_session() -> Iterator[object]:
    """A second database session, standing for a worker that runs an import."""
    db = connections.create_connection("default")
    try:
        yield db
    finally:
        db.close()


def _hold_worker_lock(db, import_id: int) -> None:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_lock(hashtextextended(%s || %s::text, 0))",
            [UsageImport.LOCK_PREFIX, import_id],
        )


def test_a_second_delivery_while_a_worker_runs_the_import_does_nothing(
    personas, products, other_session
) -> None:
    imp = _import(personas, "all_or_nothing")
    _hold_worker_lock(other_session, imp.pk)
    usage_import_run(tenant=personas.tenant_a, import_id=imp.pk)
    assert _state(personas, imp) == ("queued", 0, 0, 0, "")


def test_the_beat_publishes_again_running_imports_no_worker_holds(
    personas, products, other_session, monkeypatch
) -> None:
    published: list[tuple] = []
    monkeypatch.setattr(
        usage_import_process, "apply_async", lambda args, **options: published.append(args)
    )
    abandoned, in_progress = _import(personas, "partial"), _import(personas, "all_or_nothing")
    hour_ago = timezone.now() - timedelta(hours=1)
    with tenant_context(personas.tenant_a):
        UsageImport.objects.filter(pk__in=[abandoned.pk, in_progress.pk]).update(
            status="running", created_at=hour_ago
        )
    _hold_worker_lock(other_session, in_progress.pk)
    with tenant_context(personas.tenant_a):
        assert stale_jobs_requeue(now=timezone.now()) == 1
    assert published == [(personas.tenant_a.pk, abandoned.pk)]
    # Published again, the abandoned import resumes and finishes.
    usage_import_run(tenant=personas.tenant_a, import_id=abandoned.pk)
    assert _state(personas, abandoned) == ("done", ROWS, ROWS, 1, "")
