"""`make load`: gunicorn on the enlarged demo, a mixed locust workload, bench/load.json.

Steps (each printed as it runs):
1. a scratch database ``partnerhub_load`` next to DATABASE_URL's (kept between runs, so a
   second run skips the enlarging; ``--fresh`` starts it again), migrated as the owner role,
   the demo loaded (idempotent) and enlarged by ``bench.load.enlarge``;
2. ``collectstatic`` (production static storage: WhiteNoise with hashed, compressed files);
3. gunicorn (``--workers``, gthread) and a Celery worker, in production mode (DJANGO_DEBUG
   off, a random secret key) with ``bench.load.settings``, which adds the bare endpoint;
4. locust, headless, ``--users`` users: ``--warmup`` seconds unmeasured (each web worker's first
   connections, queries and pages), then ``--duration`` seconds measured;
5. everything it started is stopped; the figures per kind of request (throughput, p50, p95,
   p99, errors), the page / ``values()`` ratio and the targets go to bench/load.json and a
   table is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.ingest_bench import _create_database, _with_database
from partnerhub.devservices import EMBEDDED_VAR
from partnerhub.devservices import stop as stop_services

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "bench" / "load.json"
DB_NAME = "partnerhub_load"
TARGET_P95_MS = 250
TARGET_RATIO = 2.0
LIST_PAGE = "page partners list"
BARE = "bare partners values()"


def log(message: str) -> None:
    print(f"[load] {message}", flush=True)


def _database_exists(owner_url: str, name: str) -> bool:
    with psycopg.connect(_with_database(owner_url, "postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def _drop_database(owner_url: str, name: str) -> None:
    with psycopg.connect(_with_database(owner_url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(command: list[str], env: dict[str, str]) -> None:
    log("$ " + " ".join(command[1:] if command[0] == sys.executable else command))
    subprocess.run(command, env=env, cwd=ROOT, check=True)


def prepare_database(env: dict[str, str], args: argparse.Namespace) -> None:
    owner_url = env["DATABASE_OWNER_URL"]
    if args.fresh and _database_exists(owner_url, DB_NAME):
        log(f"dropping {DB_NAME} (--fresh)")
        _drop_database(owner_url, DB_NAME)
    if not _database_exists(owner_url, DB_NAME):
        log(f"creating the scratch database {DB_NAME}")
        _create_database(owner_url, env["DATABASE_URL"], DB_NAME)
    manage = [sys.executable, "manage.py"]
    _run([*manage, "migrate", "--database=owner", "--no-input", "-v0"], env)
    # The demo loader goes through every partner of the tenant: run it on the demo alone, before
    # enlarging (on 10,000 partners it would take many minutes to change nothing of interest).
    with psycopg.connect(env["DATABASE_OWNER_URL"]) as conn:
        demo = conn.execute("SELECT 1 FROM tenancy_tenant WHERE slug = 'demo'").fetchone()
    if demo is None:
        _run([*manage, "load_demo"], env)
    else:
        log("demo already loaded")
    t = time.perf_counter()
    _run(
        [
            sys.executable,
            "-m",
            "bench.load.enlarge",
            "--partners",
            str(args.partners),
            "--rows",
            str(args.rows),
        ],
        env,
    )
    log(f"data ready in {time.perf_counter() - t:.0f} s")


def write_fixture(env: dict[str, str], path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """What the locust users need, read in a child process with the load settings."""
    _run(
        [
            sys.executable,
            "-m",
            "bench.load.run",
            "--write-fixture",
            str(path),
            "--bulk-rows",
            str(args.bulk_rows),
            "--users",
            str(args.users),
        ],
        env,
    )
    return json.loads(path.read_text())


def fixture(path: Path, bulk_rows: int, users: int) -> None:
    """In a child process (Django set up with the load settings): logins, token, ids."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from kpis.models import KpiDefinition, Source
    from partnerhub.accounts.models import User
    from partnerhub.accounts.services import api_token_create
    from partnerhub.tenancy.context import tenant_context
    from partnerhub.tenancy.models import Tenant
    from partners.models import Partner, PartnerStatus, PartnerTier, PartnerUser, Tag
    from settlements.demo_usage import demo_months
    from settlements.models import Product, Statement

    def sessions(email: str, count: int) -> list[str]:
        """Signed-in sessions, as the login form leaves them: the users of a load test have
        logged in before (sessions last 12 hours), and a burst of 20 password hashes at the
        start would measure PBKDF2, not the pages."""
        user = User.objects.get(email=email)
        keys = []
        for _ in range(count):
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            keys.append(store.session_key)
        return keys

    tenant = Tenant.objects.get(slug="demo")
    portal_email = "partner@demo.test"
    with tenant_context(tenant):
        admin = User.objects.get(email="admin@demo.test")
        token = api_token_create(user=admin, name="make load", ttl_days=1).raw
        partners = list(Partner.objects.order_by("pk").values_list("pk", flat=True))
        active = list(
            Partner.objects.filter(status=PartnerStatus.ACTIVE).values_list("pk", flat=True)
        )
        portal_partner = PartnerUser.objects.get(user__email=portal_email).partner_id
        month = demo_months()[-1]
        data = {
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "sessions": {
                "manager": sessions("manager@demo.test", users),
                "finance": sessions("finance@demo.test", users),
                "portal": sessions(portal_email, users),
            },
            "token": token,
            "partners": partners,
            "active_partners": active,
            "list_pages": max(1, len(partners) // 25),
            "api_pages": max(1, len(partners) // 50),
            "tiers": list(PartnerTier.objects.values_list("pk", flat=True)),
            "tags": list(Tag.objects.values_list("pk", flat=True)),
            "products": list(Product.objects.filter(is_active=True).values_list("code", flat=True)),
            "kpis": list(
                KpiDefinition.objects.filter(
                    source=Source.API_CSV, numerator__isnull=True
                ).values_list("key", flat=True)
            ),
            "month": month.isoformat(),
            "statements": list(Statement.objects.values_list("pk", flat=True)[:200]),
            "portal_statements": list(
                Statement.objects.filter(partner_id=portal_partner)
                .exclude(status=Statement.Status.DRAFT)
                .values_list("pk", flat=True)
            ),
            "bulk_rows": bulk_rows,
        }
    path.write_text(json.dumps(data))


def _wait_healthy(url: str, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer 200 within 60 s")


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, process in processes.items():
        if process.poll() is None:
            # gunicorn: SIGINT is its quick shutdown (SIGTERM waits for idle keep-alives).
            process.send_signal(signal.SIGINT if name == "gunicorn" else signal.SIGTERM)
    for name, process in processes.items():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop; killing it")
            process.kill()


def _row(stats: dict[str, str], duration: float) -> dict[str, Any]:
    def num(key: str) -> float:
        value = stats.get(key, "") or "0"
        return 0.0 if value == "N/A" else float(value)

    requests = int(num("Request Count"))
    return {
        "requests": requests,
        "failures": int(num("Failure Count")),
        "rps": round(requests / duration, 2) if duration else 0.0,
        "p50_ms": num("50%"),
        "p95_ms": num("95%"),
        "p99_ms": num("99%"),
        "mean_ms": round(num("Average Response Time"), 1),
        "max_ms": num("Max Response Time"),
    }


def _kind(name: str) -> str:
    if name.startswith("page "):
        return "page"
    if name.startswith("api GET"):
        return "api read"
    if name.startswith("api POST"):
        return "api write"
    if name.startswith("bare "):
        return "bare"
    return "login"


def _locust(
    host: str, users: int, seconds: int, csv_prefix: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "load" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(max(1, users // 2)),
            "--run-time",
            f"{seconds}s",
            "--host",
            host,
            "--csv",
            str(csv_prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
        ],
        env=env,
        cwd=ROOT,
        check=False,
    )


def report(csv_prefix: Path, args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    with open(f"{csv_prefix}_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    per_request: dict[str, Any] = {}
    total: dict[str, Any] = {}
    for stats in rows:
        name = stats["Name"]
        if name == "Aggregated":
            total = _row(stats, seconds)
            continue
        per_request[name] = {"kind": _kind(name), **_row(stats, seconds)}
    errors: list[dict[str, Any]] = []
    failures_csv = Path(f"{csv_prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open(newline="") as f:
            errors = [
                {"name": r["Name"], "error": r["Error"][:300], "count": int(r["Occurrences"])}
                for r in csv.DictReader(f)
            ]
    slow = sorted(
        name
        for name, r in per_request.items()
        if r["kind"] in ("page", "api read") and r["p95_ms"] > TARGET_P95_MS
    )
    page, bare = per_request.get(LIST_PAGE), per_request.get(BARE)
    ratio_p50 = round(page["p50_ms"] / bare["p50_ms"], 2) if page and bare else None
    ratio_p95 = round(page["p95_ms"] / bare["p95_ms"], 2) if page and bare else None
    error_count = sum(r["failures"] for r in per_request.values())
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "users": args.users,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "wait_s": [args.wait_min, args.wait_max],
            "partners": args.partners,
            "usage_rows_added": args.rows,
            "gunicorn_workers": args.workers,
            "gunicorn_threads": args.threads,
            "bulk_rows_per_post": args.bulk_rows,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "total": total,
        "errors": error_count,
        "error_samples": errors,
        "requests": per_request,
        "list_vs_values": {
            "page": LIST_PAGE,
            "bare": BARE,
            "ratio_p50": ratio_p50,
            "ratio_p95": ratio_p95,
        },
        "targets": {
            "zero_errors": error_count == 0,
            f"p95_under_{TARGET_P95_MS}ms_pages_and_api_reads": not slow,
            "over_target": slow,
            f"list_within_{TARGET_RATIO:g}x_values": ratio_p50 is not None
            and ratio_p50 <= TARGET_RATIO,
        },
    }


def print_table(result: dict[str, Any]) -> None:
    header = (
        f"{'request':<34} {'kind':<9} {'n':>6} {'req/s':>6} {'p50':>6} {'p95':>6} "
        f"{'p99':>6} {'err':>4}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    order = {"page": 0, "api read": 1, "api write": 2, "bare": 3, "login": 4}
    for name, r in sorted(result["requests"].items(), key=lambda i: (order[i[1]["kind"]], i[0])):
        print(
            f"{name:<34} {r['kind']:<9} {r['requests']:>6} {r['rps']:>6.1f} {r['p50_ms']:>6.0f} "
            f"{r['p95_ms']:>6.0f} {r['p99_ms']:>6.0f} {r['failures']:>4}"
        )
    t = result["total"]
    print("-" * len(header))
    print(
        f"{'all':<34} {'':<9} {t['requests']:>6} {t['rps']:>6.1f} {t['p50_ms']:>6.0f} "
        f"{t['p95_ms']:>6.0f} {t['p99_ms']:>6.0f} {result['errors']:>4}"
    )
    ratio = result["list_vs_values"]
    print(f"\npartner list page / values(): p50 {ratio['ratio_p50']}x, p95 {ratio['ratio_p95']}x")
    for target, met in result["targets"].items():
        if target != "over_target":
            print(f"  {target}: {'met' if met else 'NOT met'}")
    if result["targets"]["over_target"]:
        print("  over the p95 target: " + ", ".join(result["targets"]["over_target"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("USERS", 20)))
    parser.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", 60)))
    parser.add_argument("--partners", type=int, default=int(os.environ.get("PARTNERS", 10_000)))
    parser.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 10_000_000)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 4)))
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument(
        "--warmup", type=int, default=int(os.environ.get("WARMUP", 15)), help="seconds, unmeasured"
    )
    parser.add_argument("--wait-min", type=float, default=0.5, help="think time, seconds")
    parser.add_argument("--wait-max", type=float, default=2.0)
    parser.add_argument("--bulk-rows", type=int, default=50, help="rows per bulk POST")
    parser.add_argument("--fresh", action="store_true", help="rebuild the scratch database")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--write-fixture", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_fixture:
        fixture(args.write_fixture, args.bulk_rows, args.users)
        return 0

    app_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL") or app_url
    if not app_url or not os.environ.get("REDIS_URL"):
        raise SystemExit("DATABASE_URL / REDIS_URL are not set: run `make load`.")
    tmp = Path(tempfile.mkdtemp(prefix="partnerhub-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": _with_database(app_url, DB_NAME),
        "DATABASE_OWNER_URL": _with_database(owner_url, DB_NAME),
        # Migrations, demo and enlarging as a developer would; the server below in production mode.
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings",
        "PARTNERHUB_MEDIA_ROOT": str(tmp / "media"),
    }
    prepare_database(env, args)
    port = _free_port()
    server_env = {
        **env,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "bench.load.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # A separate queue: a `make run` worker on the same Redis must not take these tasks.
        "CELERY_TASK_DEFAULT_QUEUE": f"load-{port}",
        "LOG_LEVEL": "WARNING",
    }
    _run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], server_env)
    data = write_fixture(server_env, tmp / "fixture.json", args)
    log(
        f"{len(data['partners']):,} partners ({len(data['active_partners']):,} active), "
        f"{len(data['statements'])} statements"
    )
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        processes["gunicorn"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "partnerhub.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
                # Longer than the users' think time: a keep-alive connection closed by the
                # server just as the client reuses it is a reset, not a slow page.
                "--keep-alive",
                "10",
            ],
            env=server_env,
            cwd=ROOT,
        )
        processes["worker"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "partnerhub",
                "worker",
                "-l",
                "warning",
                "-c",
                "1",
            ],
            env=server_env,
            cwd=ROOT,
        )
        host = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{host}/healthz", processes)
        log(
            f"gunicorn ({args.workers} workers x {args.threads} threads) on {host}; "
            f"locust: {args.users} users for {args.duration} s"
        )
        env = {
            **os.environ,
            "LOAD_FIXTURE": str(tmp / "fixture.json"),
            "LOAD_WAIT_MIN": str(args.wait_min),
            "LOAD_WAIT_MAX": str(args.wait_max),
        }
        if args.warmup > 0:
            # The same workload, not measured: the first request of each web worker thread
            # opens its database connection and runs each page's code for the first time (a
            # few hundred ms), which in 60 s of 20 users is the p95 of the rarer pages.
            log(f"warm-up: {args.warmup} s, not measured")
            _locust(host, args.users, args.warmup, tmp / "warmup", env)
        csv_prefix = tmp / "locust"
        # Other work on the machine shows in every figure: the report keeps the load average.
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        locust = _locust(host, args.users, args.duration, csv_prefix, env)
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        if locust.returncode != 0:
            log(f"locust exited with {locust.returncode}")
    finally:
        _stop(processes)
    result = report(csv_prefix, args, min(seconds, float(args.duration)))
    result["config"]["load_average_1min"] = [round(load_before, 2), round(load_after, 2)]
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    log(
        f"wrote {args.output.relative_to(ROOT)}; the database {DB_NAME} is kept for the next run "
        "(--fresh rebuilds it)"
    )
    if not os.environ.get("PARTNERHUB_KEEP_SERVICES"):
        # Only the embedded servers devservices started; never one given by DATABASE_URL/REDIS_URL.
        stop_services(set(filter(None, os.environ.get(EMBEDDED_VAR, "").split(","))))
    return 0 if locust.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
