"""Ingestion benchmark: the app's usage import against a plain COPY of the same CSV file.

Creates a fresh database ``partnerhub_bench_ingest_<pid>`` next to the one in DATABASE_URL,
migrates it, makes a scratch tenant with 1,000 partners and 20 products, generates a CSV of
``--rows`` usage rows (default 1,000,000; three currencies, three months), then times

* a plain ``COPY ... FROM STDIN (FORMAT csv)`` of the file into a bare typed table (no keys,
  no indexes), and
* the app's import path (``usage_import_run``: COPY into staging, set-based validation,
  de-duplication through the key table, insert into the monthly partitions),
* three floors, the least that anything meeting the issue's other requirements must do, as plain
  SQL with no validation, no row-level security and no partitions (``FLOORS``): a ``COPY`` into
  the same bare table carrying only the unique ``(tenant_id, external_id)`` index (a record sent
  twice is stored once), the path the issue prescribes (``COPY`` into a text staging table, then
  one ``INSERT ... SELECT`` with the casts into the bare table, no index at all), and both,

and the peak memory (``ru_maxrss`` of a fresh subprocess, and the tracemalloc peak of the import
call itself) at ``--memory-rows`` and 10x that many rows, to show memory stays flat. Prints the
figures and ratios and merges them into bench/results.json under "ingest" (read-modify-write:
other benchmarks keep their keys). The database is dropped at the end (``--keep`` keeps it).

Run: ``python -m bench.ingest_bench`` with DATABASE_URL/DATABASE_OWNER_URL exported (e.g.
``. <(python -m partnerhub.devservices env)``). Other benchmarks may reuse ``generate_csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "bench" / "results.json"
PARTNERS = 1000
PRODUCTS = 20
CURRENCIES = ("EUR", "USD", "GBP")
MONTHS = ("2026-01-01", "2026-02-01", "2026-03-01")
CHUNK = 1 << 20

# Deterministic rows from generate_series: partner, product, time within three months,
# quantity, gross (2 decimals), tax, currency, a unique external id.
GENERATE_SQL = """
COPY (
  SELECT (%(partners)s::bigint[])[1 + g %% %(np)s] AS partner,
         'product-' || lpad((g %% %(nprod)s)::text, 2, '0') AS product_code,
         to_char(timestamptz '2026-01-01 00:00:00+00' + (g %% 7776000) * interval '1 second',
                 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS event_time,
         1 + g %% 7 AS quantity,
         round((g %% 100000)::numeric / 100, 2) AS gross_amount,
         round((g %% 100000)::numeric / 100 * 0.19, 2) AS tax_amount,
         (ARRAY['EUR', 'USD', 'GBP'])[1 + g %% 3] AS currency,
         %(prefix)s || g AS external_id
  FROM generate_series(1, %(rows)s) AS g
) TO STDOUT WITH (FORMAT csv, HEADER true)
"""

BARE_TABLE_SQL = """
DROP TABLE IF EXISTS bench_bare_usage;
CREATE TABLE bench_bare_usage (
    partner bigint, product_code text, event_time timestamptz, quantity numeric,
    gross_amount numeric, tax_amount numeric, currency text, external_id text
)
"""


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _create_database(owner_url: str, app_url: str, name: str) -> None:
    maintenance = _with_database(owner_url, "postgres")
    owner = urlsplit(owner_url).username or ""
    app = urlsplit(app_url).username or ""
    _drop_database(owner_url, name)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
    if owner != app:  # what deploy/roles.sql grants in each database
        with psycopg.connect(_with_database(owner_url, name), autocommit=True) as conn:
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app)))
            prefix = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT ").format(
                sql.Identifier(owner)
            )
            for grant in (
                "SELECT, INSERT, UPDATE, DELETE ON TABLES",
                "USAGE, SELECT ON SEQUENCES",
                "EXECUTE ON FUNCTIONS",
            ):
                conn.execute(
                    prefix + sql.SQL(grant) + sql.SQL(" TO {}").format(sql.Identifier(app))
                )


def _drop_database(owner_url: str, name: str) -> None:
    """Drop the scratch database, ending its sessions. ``FORCE`` refuses when a backend the
    owner may not signal is in it: an autovacuum worker after the bulk writes. A plain ``DROP``
    cancels autovacuum itself, so that is the second try (it still refuses open sessions)."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    with psycopg.connect(_with_database(owner_url, "postgres"), autocommit=True) as conn:
        try:
            conn.execute(drop + sql.SQL(" WITH (FORCE)"))
        except psycopg.errors.InsufficientPrivilege:
            conn.execute(drop)


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")  # a development tool: no secrets needed
    import django

    django.setup()


def scratch_tenant(partners: int = PARTNERS, products: int = PRODUCTS) -> Any:
    """The scratch tenant ``bench-ingest`` with its partners and products (reused if there)."""
    from partnerhub.tenancy.context import tenant_context
    from partnerhub.tenancy.models import Tenant
    from partnerhub.tenancy.services import tenant_create
    from partners.models import Partner, PartnerStatus, PartnerType
    from settlements.models import Product

    tenant = Tenant.objects.filter(slug="bench-ingest").first() or tenant_create(
        name="Bench Ingest", slug="bench-ingest"
    )
    with tenant_context(tenant):
        partner_type = PartnerType.objects.order_by("pk").first() or PartnerType.objects.create(
            key="bench", name="Bench"
        )
        missing = partners - Partner.objects.count()
        Partner.objects.bulk_create(
            Partner(
                tenant=tenant,
                legal_name=f"Bench Partner {i:04d}",
                country="DE",
                status=PartnerStatus.ACTIVE,
                partner_type=partner_type,
            )
            for i in range(max(0, missing))
        )
        existing = set(Product.objects.values_list("code", flat=True))
        Product.objects.bulk_create(
            Product(tenant=tenant, code=f"product-{i:02d}", name=f"Product {i:02d}")
            for i in range(products)
            if f"product-{i:02d}" not in existing
        )
    return tenant


def generate_csv(tenant: Any, path: Path, rows: int, prefix: str) -> int:
    """Write ``rows`` usage rows of ``tenant``'s partners to ``path`` (streamed, COPY TO)."""
    from django.db import connection

    from partnerhub.tenancy.context import tenant_context
    from partners.models import Partner

    with tenant_context(tenant):
        partner_ids = list(Partner.objects.order_by("pk").values_list("pk", flat=True))
        with path.open("wb") as out, connection.cursor() as cursor:
            params = {
                "partners": partner_ids,
                "np": len(partner_ids),
                "nprod": PRODUCTS,
                "prefix": prefix,
                "rows": rows,
            }
            query = cursor.mogrify(GENERATE_SQL, params)
            with cursor.copy(query) as copy:
                for data in copy:
                    out.write(data)
    return path.stat().st_size


UNIQUE_KEY_TABLE_SQL = """
DROP TABLE IF EXISTS bench_keyed_usage;
CREATE TABLE bench_keyed_usage (
    tenant_id bigint NOT NULL DEFAULT 1, partner bigint, product_code text,
    event_time timestamptz, quantity numeric, gross_amount numeric, tax_amount numeric,
    currency text, external_id text,
    UNIQUE (tenant_id, external_id)
)
"""

STAGING_FLOOR_SQL = """
DROP TABLE IF EXISTS bench_staged_usage;
CREATE UNLOGGED TABLE bench_staged_usage (
    partner text, product_code text, event_time text, quantity text, gross_amount text,
    tax_amount text, currency text, external_id text
)
"""

STAGED_INSERT_SQL = """
INSERT INTO {table} (partner, product_code, event_time, quantity, gross_amount, tax_amount,
    currency, external_id)
SELECT partner::bigint, product_code, event_time::timestamptz, quantity::numeric,
    gross_amount::numeric, nullif(tax_amount, '')::numeric, currency, external_id
FROM bench_staged_usage
"""


FLOORS = {
    "copy_with_unique_key_seconds": "COPY into the bare table with only the unique key",
    "staging_then_insert_seconds": "COPY into text staging + INSERT ... SELECT, no index",
    "staging_then_insert_with_unique_key_seconds": "the same into the table with the unique key",
}


def _owner_copy(path: Path, setup: str, statement: str, *after: str) -> float:
    """Seconds for ``setup`` (untimed), then the file's ``COPY`` and ``after`` in one
    transaction (as the owner role: the app role creates no tables); the tables are dropped."""
    from django.db import connections, transaction

    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute(setup)
    t = time.perf_counter()
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        with path.open("rb") as stream, cursor.copy(statement) as cp:
            while chunk := stream.read(CHUNK):
                cp.write(chunk)
        for query in after:
            cursor.execute(query)
    seconds = time.perf_counter() - t
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_bare_usage, bench_keyed_usage, bench_staged_usage"
        )
    return seconds


def time_floors(path: Path) -> dict[str, float]:
    """The floors (module docstring): seconds of each."""
    columns = "partner, product_code, event_time, quantity, gross_amount, tax_amount, currency"
    staged_copy = "COPY bench_staged_usage FROM STDIN WITH (FORMAT csv, HEADER true)"
    return {
        "copy_with_unique_key_seconds": _owner_copy(
            path,
            UNIQUE_KEY_TABLE_SQL,
            f"COPY bench_keyed_usage ({columns}, external_id) FROM STDIN "
            "WITH (FORMAT csv, HEADER true)",
        ),
        "staging_then_insert_seconds": _owner_copy(
            path,
            BARE_TABLE_SQL + ";" + STAGING_FLOOR_SQL,
            staged_copy,
            STAGED_INSERT_SQL.format(table="bench_bare_usage"),
        ),
        "staging_then_insert_with_unique_key_seconds": _owner_copy(
            path,
            UNIQUE_KEY_TABLE_SQL + ";" + STAGING_FLOOR_SQL,
            staged_copy,
            STAGED_INSERT_SQL.format(table="bench_keyed_usage"),
        ),
    }


def time_plain_copy(path: Path) -> float:
    """COPY the file into a bare typed table."""
    return _owner_copy(
        path, BARE_TABLE_SQL, "COPY bench_bare_usage FROM STDIN WITH (FORMAT csv, HEADER true)"
    )


def _empty_usage_tables() -> None:
    """Every import sample starts from empty usage tables (the owner may truncate)."""
    from django.db import connections, transaction

    with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute(
            "TRUNCATE settlements_usagerecord, settlements_usagekey, settlements_usageday"
        )


def _fmt(samples: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in samples)


def time_app_import(tenant: Any, path: Path) -> tuple[float, Any]:
    from django.core.files import File

    from partnerhub.tenancy.context import tenant_context
    from settlements.models import UsageImport
    from settlements.services.usage_import import usage_import_run

    with tenant_context(tenant), path.open("rb") as stream:
        usage_import = UsageImport.objects.create(
            tenant=tenant, source="csv", file=File(stream, name=path.name), original_name=path.name
        )
    t = time.perf_counter()
    done = usage_import_run(tenant=tenant, import_id=usage_import.pk)
    return time.perf_counter() - t, done


def child_memory(rows: int) -> None:
    """In a fresh process: import ``rows`` rows and print peak memory as JSON."""
    import resource
    import tracemalloc

    _django_setup()
    tenant = scratch_tenant()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mem-{rows}.csv"
        generate_csv(tenant, path, rows, prefix=f"mem{rows}-{os.getpid()}-")
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        _, done = time_app_import(tenant, path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(
        json.dumps(
            {
                "rows": rows,
                "inserted": done.inserted,
                "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "rss_before_import_kb": baseline,
                "tracemalloc_peak_kb": peak // 1024,
            }
        )
    )


def _merge_results(output: Path, key: str, value: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if output.exists():
        try:
            data = json.loads(output.read_text())
        except json.JSONDecodeError:
            data = {}
    data[key] = value
    output.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, default=20_000, help="N for the N/10N check")
    parser.add_argument("--repeat", type=int, default=3, help="samples of each, median counts")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.child_memory)
        return

    app_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL") or app_url
    if not app_url:
        raise SystemExit("DATABASE_URL is not set: export `python -m partnerhub.devservices env`.")
    name = f"partnerhub_bench_ingest_{os.getpid()}"
    _create_database(owner_url, app_url, name)
    os.environ["DATABASE_URL"] = _with_database(app_url, name)
    os.environ["DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    media = tempfile.TemporaryDirectory()
    os.environ["PARTNERHUB_MEDIA_ROOT"] = media.name
    try:
        _django_setup()
        from django.core.management import call_command

        call_command("migrate", database="owner", verbosity=0)
        tenant = scratch_tenant()
        copies: list[float] = []
        imports: list[float] = []
        floor_samples: dict[str, list[float]] = {key: [] for key in FLOORS}
        with tempfile.TemporaryDirectory() as tmp:
            for sample in range(1, args.repeat + 1):
                path = Path(tmp) / f"usage-{sample}.csv"
                t = time.perf_counter()
                size = generate_csv(tenant, path, args.rows, prefix=f"bench-{sample}-")
                took = time.perf_counter() - t
                print(
                    f"sample {sample}: generated {args.rows:,} rows "
                    f"({size / 1e6:.0f} MB) in {took:.1f} s"
                )
                copies.append(time_plain_copy(path))
                for key, seconds in time_floors(path).items():
                    floor_samples[key].append(seconds)
                _empty_usage_tables()
                import_seconds, done = time_app_import(tenant, path)
                imports.append(import_seconds)
                print(
                    f"sample {sample}: COPY {copies[-1]:.2f} s, app import {import_seconds:.2f} s "
                    f"({done.inserted:,} inserted, {done.rejected} rejected, status {done.status})"
                )
                path.unlink()
        copy_seconds, import_seconds = statistics.median(copies), statistics.median(imports)
        floors = {key: statistics.median(values) for key, values in floor_samples.items()}
        print(f"plain COPY into a bare table: {copy_seconds:.2f} s (samples {_fmt(copies)})")
        for key, seconds in floors.items():
            print(f"floor, {FLOORS[key]}: {seconds:.2f} s = {seconds / copy_seconds:.2f}x COPY")
        print(f"app import: {import_seconds:.2f} s (samples {_fmt(imports)})")
        ratio = import_seconds / copy_seconds
        print(f"ingestion / COPY = {ratio:.2f} (target <= 2), medians of {args.repeat} samples")

        memory = []
        for rows in (args.memory_rows, args.memory_rows * 10):
            out = subprocess.run(
                [sys.executable, "-m", "bench.ingest_bench", "--child-memory", str(rows)],
                cwd=ROOT,
                env=os.environ.copy(),
                capture_output=True,
                text=True,
                check=True,
            )
            memory.append(json.loads(out.stdout.strip().splitlines()[-1]))
            m = memory[-1]
            print(
                f"memory at {rows:,} rows: peak RSS {m['peak_rss_kb'] / 1024:.0f} MiB "
                f"(before import {m['rss_before_import_kb'] / 1024:.0f} MiB), "
                f"tracemalloc peak {m['tracemalloc_peak_kb'] / 1024:.1f} MiB"
            )
        growth = memory[1]["peak_rss_kb"] / memory[0]["peak_rss_kb"]
        print(f"peak RSS growth for 10x rows: {growth:.2f}x (flat = about 1)")
        _merge_results(
            args.output,
            "ingest",
            {
                "rows": args.rows,
                "file_mb": round(size / 1e6, 1),
                "plain_copy_seconds": round(copy_seconds, 3),
                "import_seconds": round(import_seconds, 3),
                "plain_copy_samples": [round(x, 3) for x in copies],
                "import_samples": [round(x, 3) for x in imports],
                "ratio": round(ratio, 2),
                "target_ratio": 2,
                "floors": {
                    key: {"seconds": round(value, 3), "ratio": round(value / copy_seconds, 2)}
                    for key, value in floors.items()
                },
                "memory": memory,
                "memory_growth_10x": round(growth, 2),
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
        )
        print(f"wrote {args.output}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop_database(owner_url, name)
        media.cleanup()


if __name__ == "__main__":
    main()
