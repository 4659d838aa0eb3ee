"""PostgreSQL restarted under a usage import: a real Celery worker imports a 30,000-row file in
20 batches into a private PostgreSQL server (tests/private_postgres.py), which is restarted once
the import is a few batches in. At every moment the import shows no row before it is done (all
or nothing) or exactly the rows of its recorded progress (partial); the worker's retry then
completes it with exactly the rows of the file, each once."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from settlements.tasks import usage_import_process
from tests.private_postgres import PrivatePostgres, private_postgres_with_schema
from tests.workers import ROOT, celery_worker, stop, wait_until

ROWS = 30_000
BATCH = 1_500
HEADER = "partner,product_code,event_time,quantity,gross_amount,tax_amount,currency,external_id\n"

# Run by ``manage.py shell`` on the private server: a tenant, partners, a product and the two
# imports (files under PARTNERHUB_MEDIA_ROOT), queued but not published.
SEED = """
import json
from django.core.files.base import ContentFile
from partnerhub.tenancy.context import tenant_context
from settlements.models import Product, UsageImport
from tests.factories import TenantFactory
from tests.partners.factories import PartnerFactory
from tests.settlements.test_usage_import_fault import usage_csv

tenant = TenantFactory(slug="usage-fault", timezone="UTC")
imports = {}
with tenant_context(tenant):
    partners = [PartnerFactory().pk for _ in range(6)]
    Product.objects.create(tenant=tenant, code="sms", name="SMS")
    for policy in ("all_or_nothing", "partial"):
        imports[policy] = UsageImport.objects.create(
            tenant=tenant, policy=policy, original_name=policy + ".csv",
            file=ContentFile(usage_csv(partners, policy), name=policy + ".csv"),
        ).pk
print("SEEDED " + json.dumps({"tenant": tenant.pk, "imports": imports}))
"""


def usage_csv(partners: list[int], prefix: str) -> bytes:
    """ROWS valid, distinct usage rows over two months and every partner."""
    out = io.StringIO()
    out.write(HEADER)
    for i in range(ROWS):
        out.write(
            f"{partners[i % len(partners)]},sms,2026-{10 + i % 2}-{1 + i % 28:02d}T"
            f"{i % 24:02d}:{i % 60:02d}:00Z,{1 + i % 7},{i % 997}.{i % 100:02d},"
            f"{i % 10}.{i % 7}0,EUR,{prefix}-{i}\n"
        )
    return out.getvalue().encode()


Totals = dict[int, tuple[int, Decimal, Decimal, Decimal]]


def file_totals(path: Path) -> Totals:
    """Per partner: rows, quantity, gross and tax, from the file itself."""
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            acc = sums[int(row["partner"])]
            acc[0] += 1
            acc[1] += Decimal(row["quantity"])
            acc[2] += Decimal(row["gross_amount"])
            acc[3] += Decimal(row["tax_amount"])
    return {p: (int(a[0]), a[1], a[2], a[3]) for p, a in sums.items()}


def stored_totals(db: psycopg.Connection, import_id: int) -> Totals:
    rows = db.execute(
        """SELECT partner_id, count(*), sum(quantity), sum(gross_amount), sum(tax_amount)
        FROM settlements_usagerecord WHERE usage_import_id = %s GROUP BY 1""",
        [import_id],
    ).fetchall()
    return {p: (n, q, g, t) for p, n, q, g, t in rows}


class Watch:
    """Reads an import's row and its stored records in one statement (one snapshot), as the
    superuser (past row-level security), reconnecting across restarts."""

    SQL = """SELECT i.status, i.rows_processed, i.attempts, i.error,
        (SELECT count(*) FROM settlements_usagerecord r WHERE r.usage_import_id = i.id)
        FROM settlements_usageimport i WHERE i.id = %s"""

    def __init__(self, server: PrivatePostgres, import_id: int) -> None:
        self.server, self.import_id = server, import_id
        self.db: psycopg.Connection | None = None
        self.seen: list[tuple[str, int, int]] = []  # status, progress, records

    def read(self) -> tuple[str, int, int, str, int] | None:
        try:
            if self.db is None or self.db.closed:
                self.db = self.server.connect(connect_timeout=2)
            status, processed, attempts, error, records = self.db.execute(
                self.SQL, [self.import_id]
            ).fetchone()
        except psycopg.OperationalError:  # restarting
            self.db = None
            return None
        self.seen.append((status, processed, records))
        return status, processed, attempts, error, records

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


@pytest.fixture
def server(django_db_setup) -> Iterator[PrivatePostgres]:
    server = private_postgres_with_schema()
    try:
        yield server
    finally:
        server.remove()


def _seed(server: PrivatePostgres, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SEED],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SEEDED "))
    return json.loads(line.removeprefix("SEEDED "))


def _restart_mid_way(
    server: PrivatePostgres, watch: Watch, mode: str, log: Path, *, invariant
) -> None:
    """Restart the server once the import is past two batches and before half of the file,
    then follow it to its end, checking ``invariant`` at every read."""

    def mid_way() -> bool:
        state = watch.read()
        assert state is not None
        assert state[0] not in {"failed", "rejected"}, state
        invariant(*state)
        return 2 * BATCH <= state[1] <= ROWS // 2

    wait_until(mid_way, 90, "the import to be a few batches in", log)
    server.restart(mode)

    def finished() -> bool:
        state = watch.read()
        if state is None:
            return False
        invariant(*state)
        return state[0] in {"done", "failed"}

    wait_until(finished, 120, "the import to finish after the restart", log)


def test_postgres_restarted_during_usage_imports(server: PrivatePostgres, tmp_path: Path) -> None:
    queue = f"usage-fault-{os.getpid()}"
    media = tmp_path / "media"
    env = {
        **server.app_env(),
        "PARTNERHUB_MEDIA_ROOT": str(media),
        "USAGE_IMPORT_BATCH_SIZE": str(BATCH),
    }
    log = tmp_path / "worker.log"
    worker = celery_worker(queue, log, env)  # boots while the data is seeded
    watches: list[Watch] = []
    try:
        seeded = _seed(server, env)
        tenant, imports = seeded["tenant"], seeded["imports"]

        # All or nothing: not one row is visible until the import is done.
        def nothing_before_done(status, processed, attempts, error, records) -> None:
            assert records == (ROWS if status == "done" else 0), (status, processed, records)

        watch = Watch(server, imports["all_or_nothing"])
        watches.append(watch)
        usage_import_process.apply_async((tenant, imports["all_or_nothing"]), queue=queue)
        _restart_mid_way(server, watch, "fast", log, invariant=nothing_before_done)

        # Partial: every batch commits with its progress; an immediate shutdown (crash
        # recovery) may lose the last unflushed batches, but always with their progress.
        def records_match_progress(status, processed, attempts, error, records) -> None:
            assert records == processed, (status, processed, records)

        watch = Watch(server, imports["partial"])
        watches.append(watch)
        usage_import_process.apply_async((tenant, imports["partial"]), queue=queue)
        _restart_mid_way(server, watch, "immediate", log, invariant=records_match_progress)
    finally:
        stop(worker)
        for watch in watches:
            watch.close()

    with server.connect() as db:
        for policy, import_id in imports.items():
            status, processed, attempts, error, _records = db.execute(
                Watch.SQL, [import_id]
            ).fetchone()
            # Done on the second attempt (the worker's retry after the restart), nothing lost,
            # nothing twice.
            assert (status, processed, attempts, error) == ("done", ROWS, 2, ""), policy
            name = db.execute(
                "SELECT file FROM settlements_usageimport WHERE id = %s", [import_id]
            ).fetchone()[0]
            expected = file_totals(media / name)
            assert stored_totals(db, import_id) == expected, policy
        distinct, total = db.execute(
            "SELECT count(DISTINCT external_id), count(*) FROM settlements_usagerecord"
        ).fetchone()
        keys = db.execute("SELECT count(*) FROM settlements_usagekey").fetchone()[0]
        assert distinct == total == keys == 2 * ROWS
    # The restarts happened mid-way: progress was seen between the first batch and the end.
    for watch in watches:
        assert any(0 < processed < ROWS for _, processed, _ in watch.seen)
