"""Settlement benchmark: a settlement run for a month vs one plain GROUP BY over the same rows.

Usage: ``python -m bench.settle_bench [--rows N]`` (default 1,000,000 usage rows in one month,
1,000 partners, 20 products, EUR/USD/GBP with daily FX rates, every partner on a plan). Uses a
scratch database (created and dropped, like bench/ingest_bench.py, whose helpers it reuses),
generates the rows set-based in SQL, then times in the same run, ``--repeat`` times each (3 by
default; the median counts, every sample is kept), alternating:
- plain: ``SELECT partner_id, product_code, sum(gross_amount), sum(quantity), count(*)``
  ``... GROUP BY``
  over the month's rows;
- settlement: ``settlement_run_start`` + ``settlement_run_execute`` (single process: FX snapshot,
  per-chunk SQL aggregation with FX conversion, the engine, statements written, committed), each
  time the month's first run: the statements and runs of the one before are deleted first;
and the peak Python memory (tracemalloc) of a re-run of the month (apart: tracemalloc slows
Python down, so it is not on while the run is timed). Prints the ratio of the medians and merges
``{"settlement": ...}`` into bench/results.json (read-modify-write). Target: ratio <= 2.
The machine is shared: one sample can be twice another, hence the repetitions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

from bench.ingest_bench import (
    OUTPUT,
    _create_database,
    _django_setup,
    _drop_database,
    _fmt,
    _merge_results,
    _with_database,
    scratch_tenant,
)

MONTH = date(2026, 3, 1)

USAGE_SQL = """
INSERT INTO settlements_usagerecord (tenant_id, partner_id, product_code, event_time, quantity,
    gross_amount, tax_amount, currency, external_id, created_at)
SELECT %(tenant)s, (%(partners)s::bigint[])[1 + g %% %(np)s],
       'product-' || lpad((g %% 20)::text, 2, '0'),
       timestamptz '2026-03-01 00:00:00+00' + (g %% 2678400) * interval '1 second',
       1 + g %% 7, round((g %% 100000)::numeric / 100, 2),
       round((g %% 100000)::numeric / 100 * 0.19, 2),
       (ARRAY['EUR', 'USD', 'GBP'])[1 + g %% 3], 'settle-' || g, now()
FROM generate_series(1, %(rows)s) AS g
"""

FX_SQL = """
INSERT INTO settlements_fxrate (tenant_id, date, base, quote, rate, created_at)
SELECT %(tenant)s, d::date, 'EUR', q, CASE q WHEN 'USD' THEN 1.085 ELSE 0.855 END
       + (extract(day FROM d) / 10000), now()
FROM generate_series(date '2026-03-01', date '2026-03-31', interval '1 day') AS d,
     unnest(ARRAY['USD', 'GBP']) AS q
"""

PLAIN_SQL = """
SELECT partner_id, product_code, sum(gross_amount), sum(quantity), count(*)
FROM settlements_usagerecord
WHERE tenant_id = %s AND event_time >= %s AND event_time < %s
GROUP BY partner_id, product_code
"""


def prepare(rows: int) -> Any:
    from django.db import connection, transaction

    from partnerhub.tenancy.context import tenant_context
    from partners.models import Agreement, AgreementStatus, AgreementType, Partner
    from settlements.models import PlanAssignment
    from settlements.services.plans import plan_create

    tenant = scratch_tenant()
    with tenant_context(tenant), transaction.atomic():
        partners = list(Partner.objects.order_by("pk").values_list("pk", flat=True))
        plan = plan_create(
            content={
                "name": "Bench 30 %",
                "currency": "EUR",
                "direction": "payable",
                "basis": "net",
                "fx": "transaction_date",
                "rules": [
                    {
                        "product": "product-00",
                        "type": "tiered",
                        "measure": "revenue",
                        "mode": "marginal",
                        "tiers": [{"up_to": "1000", "rate": "0.2"}, {"up_to": None, "rate": "0.3"}],
                    },
                    {"product": "product-01", "type": "per_unit", "amount": "0.05"},
                    {"product": "*", "type": "percentage", "rate": "0.30"},
                ],
                "minimum_guarantee": "100.00",
            }
        )
        agreements = Agreement.objects.bulk_create(
            Agreement(
                tenant=tenant,
                partner_id=pid,
                agreement_type=AgreementType.REVENUE_SHARE,
                reference=f"BENCH-{pid}",
                title="Bench",
                status=AgreementStatus.ACTIVE,
                start_date=date(2026, 1, 1),
            )
            for pid in partners
        )
        PlanAssignment.objects.bulk_create(
            PlanAssignment(tenant=tenant, agreement=a, plan=plan, effective_from=date(2026, 1, 1))
            for a in agreements
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT settlements_usage_partition(%s)", [MONTH])
            cursor.execute(FX_SQL, {"tenant": tenant.pk})
            cursor.execute(
                USAGE_SQL,
                {"tenant": tenant.pk, "partners": partners, "np": len(partners), "rows": rows},
            )
    # Statistics as autovacuum keeps them on a live database, taken now rather than whenever it
    # comes by (both queries below are planned on the same statistics). As the owner: ANALYZE of
    # a table the app role does not own is skipped with a warning.
    from django.db import connections

    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE")
    return tenant


def reset_month(tenant: Any) -> None:
    """Delete the month's statements and runs (drafts only ever), so the next run is a first."""
    from django.db import connection

    from partnerhub.tenancy.context import tenant_context

    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM settlements_statementline WHERE statement_id IN"
            " (SELECT id FROM settlements_statement WHERE month = %s)",
            [MONTH],
        )
        cursor.execute("DELETE FROM settlements_statement WHERE month = %s", [MONTH])
        cursor.execute(
            "DELETE FROM settlements_settlementrunchunk WHERE run_id IN"
            " (SELECT id FROM settlements_settlementrun WHERE month = %s)",
            [MONTH],
        )
        cursor.execute("DELETE FROM settlements_settlementrun WHERE month = %s", [MONTH])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="samples of each, median counts")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    app_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL") or app_url
    if not app_url:
        raise SystemExit("DATABASE_URL is not set: export `python -m partnerhub.devservices env`.")
    name = f"partnerhub_bench_settle_{os.getpid()}"
    _create_database(owner_url, app_url, name)
    os.environ["DATABASE_URL"] = _with_database(app_url, name)
    os.environ["DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    try:
        _django_setup()
        from django.core.management import call_command
        from django.db import connection, transaction

        from partnerhub.tenancy.context import tenant_context
        from settlements.models import Statement
        from settlements.services.runs import settlement_run_execute, settlement_run_start
        from settlements.services.statements_build import month_bounds

        call_command("migrate", database="owner", verbosity=0)
        t = time.perf_counter()
        tenant = prepare(args.rows)
        print(f"generated {args.rows:,} usage rows in {time.perf_counter() - t:.1f} s")
        t0, t1 = month_bounds(MONTH, tenant.timezone)
        with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(PLAIN_SQL, [tenant.pk, t0, t1])  # warm the cache for both
            groups = len(cursor.fetchall())
        plains: list[float] = []
        settles: list[float] = []
        for _ in range(max(1, args.repeat)):
            with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
                t = time.perf_counter()
                cursor.execute(PLAIN_SQL, [tenant.pk, t0, t1])
                cursor.fetchall()
                plains.append(time.perf_counter() - t)
            reset_month(tenant)
            t = time.perf_counter()
            with tenant_context(tenant):
                run = settlement_run_execute(run=settlement_run_start(month=MONTH, enqueue=False))
            settles.append(time.perf_counter() - t)
        plain, settle = statistics.median(plains), statistics.median(settles)
        print(f"plain GROUP BY: {plain:.2f} s ({groups:,} groups; samples {_fmt(plains)})")
        with tenant_context(tenant):
            statements = Statement.objects.filter(month=MONTH).count()
        # Memory apart: tracemalloc slows Python down several times, so it would distort the
        # time. A re-run of the month (it replaces the drafts) under tracemalloc measures it.
        tracemalloc.start()
        t = time.perf_counter()
        with tenant_context(tenant):
            settlement_run_execute(run=settlement_run_start(month=MONTH, enqueue=False))
        rerun = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ratio = settle / plain
        print(
            f"settlement run: {settle:.2f} s ({statements:,} statements, {run.chunks_total} chunks,"
            f" status {run.status}; samples {_fmt(settles)})"
        )
        print(f"re-run under tracemalloc: {rerun:.2f} s, peak Python memory {peak / 2**20:.1f} MiB")
        print(f"settlement / plain aggregate = {ratio:.2f} (target <= 2)")
        _merge_results(
            args.output,
            "settlement",
            {
                "rows": args.rows,
                "plain_group_by_seconds": round(plain, 3),
                "settlement_run_seconds": round(settle, 3),
                "plain_group_by_samples": [round(x, 3) for x in plains],
                "settlement_run_samples": [round(x, 3) for x in settles],
                "ratio": round(ratio, 2),
                "target_ratio": 2,
                "statements": statements,
                "peak_python_memory_mib": round(peak / 2**20, 1),
                "rerun_under_tracemalloc_seconds": round(rerun, 3),
            },
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop_database(owner_url, name)


if __name__ == "__main__":
    main()
