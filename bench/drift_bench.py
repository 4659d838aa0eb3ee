"""Drift benchmark: the nightly KPI-drift job against one plain SELECT of the same rows.

Creates a fresh database ``partnerhub_bench_<pid>`` next to the one in DATABASE_URL, migrates it,
generates 1,000 partners x 20 KPIs x 365 days (7.3 million measurements, weekly seasonality,
noise and a few planted shifts) in one set-based INSERT ... SELECT, then times
``kpi_drift_detect`` for the last day against a plain SELECT reading the rows the job reads.
Prints both and their ratio, writes bench/drift.json, drops the database (``--keep`` keeps it).

Run: ``python -m bench.drift_bench`` (with DATABASE_URL/DATABASE_OWNER_URL/REDIS_URL exported,
e.g. ``. <(python -m partnerhub.devservices env)``). ``--partners`` and ``--days`` shrink it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date, timedelta
from pathlib import Path

from bench.ingest_bench import _create_database, _drop_database, _with_database

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "bench" / "drift.json"
END = date(2026, 10, 31)


GENERATE_SQL = """
INSERT INTO kpis_kpimeasurement (tenant_id, partner_id, kpi_id, date, value, origin, submitted_at)
SELECT %(tenant)s, p.id, k.id, d::date,
       round((base.level
              * (1 + 0.15 * CASE WHEN extract(isodow FROM d) >= 6 THEN -1 ELSE 0.4 END)
              * (1 + CASE WHEN p.id %% 50 = 0 AND d >= %(shift_from)s THEN 0.4 ELSE 0 END)
              + base.level * 0.08 * (random() + random() + random() - 1.5) * 2)::numeric, 4),
       'api', now()
  FROM partners_partner p
 CROSS JOIN kpis_kpidefinition k
 CROSS JOIN LATERAL (SELECT 50 + (p.id * 7 + k.id * 13) %% 950 AS level) base
 CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') d
 WHERE p.tenant_id = %(tenant)s AND k.tenant_id = %(tenant)s AND k.key LIKE 'bench_%%'
"""


# Indexes and unique constraints of the measurement table (re-created after the load).
DEFINITIONS_SQL = """
SELECT CASE WHEN c.conname IS NOT NULL
            THEN format('ALTER TABLE kpis_kpimeasurement ADD CONSTRAINT %I %s',
                        c.conname, pg_get_constraintdef(c.oid))
            ELSE pg_get_indexdef(i.indexrelid) END
  FROM pg_index i
  LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u'
 WHERE i.indrelid = 'kpis_kpimeasurement'::regclass AND NOT i.indisprimary
"""
DROP_SQL = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'kpis_kpimeasurement'::regclass AND contype IN ('f', 'u') LOOP
    EXECUTE format('ALTER TABLE kpis_kpimeasurement DROP CONSTRAINT %I', r.conname);
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'kpis_kpimeasurement'::regclass AND NOT i.indisprimary LOOP
    EXECUTE format('DROP INDEX %I', r.relname);
  END LOOP;
END $$;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--kpis", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    app_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL") or app_url
    if not app_url:
        raise SystemExit("DATABASE_URL is not set: export `python -m partnerhub.devservices env`.")
    name = f"partnerhub_bench_{os.getpid()}"
    _create_database(owner_url, app_url, name)
    os.environ["DATABASE_URL"] = _with_database(app_url, name)
    os.environ["DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")  # a development tool: no secrets needed
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from kpis.models import KpiDefinition
        from kpis.services.drift import kpi_drift_detect
        from partnerhub.tenancy.context import tenant_context
        from partnerhub.tenancy.services import tenant_create
        from partners.models import Partner, PartnerStatus, PartnerType

        t0 = time.perf_counter()
        call_command("migrate", database="owner", verbosity=0)
        tenant = tenant_create(name="Bench Telecom", slug="bench")
        start = END - timedelta(days=args.days - 1)
        # Bulk load as a DBA would: foreign keys and indexes go (a scratch database) and the
        # indexes are rebuilt after the load, which is many times faster than maintaining them.
        with connections["owner"].cursor() as owner:
            owner.execute(DEFINITIONS_SQL)
            saved = [row[0] for row in owner.fetchall()]
            owner.execute(DROP_SQL)
        with tenant_context(tenant):
            partner_type = PartnerType.objects.order_by("pk").first()
            if partner_type is None:
                partner_type = PartnerType.objects.create(key="bench", name="Bench")
            Partner.objects.bulk_create(
                Partner(
                    tenant=tenant,
                    legal_name=f"Bench Partner {i:04d}",
                    country="DE",
                    status=PartnerStatus.ACTIVE,
                    partner_type=partner_type,
                )
                for i in range(args.partners)
            )
            KpiDefinition.objects.bulk_create(
                KpiDefinition(
                    tenant=tenant,
                    key=f"bench_{i:02d}",
                    name=f"Bench KPI {i:02d}",
                    unit="count",
                    direction="higher_better" if i % 2 else "lower_better",
                    aggregation="sum" if i % 3 else "mean",
                )
                for i in range(args.kpis)
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    GENERATE_SQL,
                    {
                        "tenant": tenant.pk,
                        "start": start,
                        "end": END,
                        "shift_from": END - timedelta(days=10),
                    },
                )
                rows = cursor.rowcount
        with connections["owner"].cursor() as cursor:
            for statement in saved:
                cursor.execute(statement)
            cursor.execute("ANALYZE kpis_kpimeasurement")
        setup_seconds = time.perf_counter() - t0
        print(f"generated {rows:,} measurements in {setup_seconds:.1f} s")

        job_times: list[float] = []
        select_times: list[float] = []
        full_times: list[float] = []
        phases: list[dict[str, float]] = []
        created = series = window_rows = 0
        for attempt in range(args.repeat):
            with tenant_context(tenant):
                t = time.perf_counter()
                run = kpi_drift_detect(day=END, notify_owners=False)
                job_times.append(time.perf_counter() - t)
                phases.append(run.seconds)
                if attempt == 0:
                    created, series = len(run.created), run.series
                window_from = END - timedelta(days=56 + 28 - 1)
                with connection.cursor() as cursor:
                    t = time.perf_counter()
                    cursor.execute(
                        "SELECT kpi_id, partner_id, date, value FROM kpis_kpimeasurement "
                        "WHERE tenant_id = %s AND date BETWEEN %s AND %s",
                        [tenant.pk, window_from, END],
                    )
                    window_rows = len(cursor.fetchall())
                    select_times.append(time.perf_counter() - t)
                    if attempt == 0:  # context only: reading the whole year once is enough
                        t = time.perf_counter()
                        cursor.execute(
                            "SELECT kpi_id, partner_id, date, value FROM kpis_kpimeasurement "
                            "WHERE tenant_id = %s",
                            [tenant.pk],
                        )
                        cursor.fetchall()
                        full_times.append(time.perf_counter() - t)
                # The run's alerts would make the next run a no-op: time the same work again.
                from kpis.models import DriftAlert

                DriftAlert.objects.all().delete()
        job, plain, full = min(job_times), min(select_times), min(full_times)
        best = phases[job_times.index(job)]
        result = {
            "partners": args.partners,
            "kpis": args.kpis,
            "days": args.days,
            "measurements": rows,
            "series": series,
            "rows_read_by_job": window_rows,
            "alerts_created": created,
            "job_seconds": round(job, 3),
            "job_phases_seconds": {k: round(v, 3) for k, v in best.items()},
            "plain_select_seconds": round(plain, 3),
            "ratio_job_to_select": round(job / plain, 2) if plain else None,
            "full_year_select_seconds": round(full, 3),
            "setup_seconds": round(setup_seconds, 1),
            "python": platform.python_version(),
            "postgres": connection.pg_version,
        }
        print(
            f"drift job: {job:.3f} s over {series:,} series ({window_rows:,} rows in its window), "
            f"{created} alerts; phases: "
            + ", ".join(f"{k} {v:.3f} s" for k, v in best.items())
            + "\n"
            f"plain SELECT of the same rows: {plain:.3f} s\n"
            f"ratio job / SELECT: {result['ratio_job_to_select']}\n"
            f"(a plain SELECT of all {rows:,} rows: {full:.3f} s)"
        )
        args.output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.output}")
        connections.close_all()
    finally:
        if not args.keep:
            _drop_database(owner_url, name)


if __name__ == "__main__":
    main()
