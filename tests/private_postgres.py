"""A PostgreSQL server of a test's own, to restart under the app without touching the suite's.

It runs pgserver's binaries (the same PostgreSQL 16 as the embedded server) in a temporary
directory, on a unix socket only. The database is what ``migrate`` builds, made faster: the roles
from ``deploy/roles.sql``, then the test database's schema (``pg_dump --schema-only``: tables,
row-level security policies, triggers, functions, grants) and the rows that migrations and their
post-migrate hooks write (migration records, content types, permissions). That takes 1-4 s on
a busy 2-core machine, where running the migrations takes 15-20 s. Partitions that earlier tests
created come along, empty. Anything that keeps the server from starting fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connections

DATABASE = "partnerhub"
# Rows written by migrations and post-migrate hooks rather than by the app.
MIGRATION_TABLES = ("django_migrations", "django_content_type", "auth_permission")


def pg_binary(name: str) -> str:
    spec = importlib.util.find_spec("pgserver")  # not imported: its import wants a runtime dir
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pgserver is not installed: run `make install` (it ships PostgreSQL)", False)
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name
    if not path.exists():
        pytest.fail(f"pgserver ships no {name} at {path}", False)
    return str(path)


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, it runs as the system user that pgserver
    creates for the suite's embedded server (and gives its binaries to)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("pgserver")
    except KeyError:
        pytest.fail("running as root needs the system user `pgserver`: run `make test`", False)
    return "pgserver"


class PrivatePostgres:
    """initdb, start, restart and stop a server in ``directory`` (short: the socket lives there)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="phpg-", dir="/tmp"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.user = _system_user()
        if self.user is not None:
            shutil.chown(self.directory, self.user)

    def _run(self, args: list[str], *, as_server: bool = False, timeout: float = 60) -> None:
        # Output to a file, never a pipe: the postmaster inherits it and would hold a pipe open.
        with (self.directory / "ctl.out").open("ab") as out:
            result = subprocess.run(
                args,
                user=self.user if as_server else None,
                stdout=out,
                stderr=out,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            pytest.fail(
                f"{' '.join(args)} failed ({result.returncode}):\n{self.diagnostics()}", False
            )

    def diagnostics(self) -> str:
        parts = [
            p.read_text(errors="replace")[-3000:]
            for p in (self.directory / "ctl.out", self.log)
            if p.exists()
        ]
        return "\n".join(parts)

    def _ctl(self, *args: str) -> None:
        self._run(
            [pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args],
            as_server=True,
        )

    def start(self) -> None:
        if not self.data.exists():
            self._run(
                [
                    pg_binary("initdb"),
                    "-D",
                    str(self.data),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                as_server=True,
            )
        # No TCP; fsync off: the faults tested are process crashes and restarts, which the
        # operating system's page cache survives (an OS crash is not simulated).
        options = f"-c listen_addresses='' -c unix_socket_directories={self.directory} -c fsync=off"
        self._ctl("-o", options, "start")

    def restart(self, mode: str = "fast") -> None:
        """``fast``: sessions are terminated, a clean shutdown; ``immediate``: no shutdown
        checkpoint, the restart runs crash recovery."""
        self._ctl("-m", mode, "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-m", "immediate", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, role: str, database: str = DATABASE) -> str:
        return f"postgres://{role}@{quote(str(self.directory), safe='')}/{database}"

    def connect(
        self, role: str = "postgres", database: str = DATABASE, **kwargs: Any
    ) -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.directory), user=role, dbname=database, autocommit=True, **kwargs
        )

    def psql(self, *args: str, role: str = "postgres", database: str = "postgres") -> None:
        self._run(
            [
                pg_binary("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.directory),
                "-U",
                role,
                "-d",
                database,
                *args,
            ]
        )

    def app_env(self) -> dict[str, str]:
        """The environment of a process running the app on this server."""
        return {
            "DATABASE_URL": self.url("partnerhub_app"),
            "DATABASE_OWNER_URL": self.url("partnerhub_owner"),
        }


def _dump(args: list[str], out: Path) -> None:
    """pg_dump of the suite's test database (as the owner role) into ``out``."""
    db = connections["owner"].settings_dict
    env = dict(os.environ, PGHOST=db["HOST"] or "", PGUSER=db["USER"], PGDATABASE=db["NAME"])
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    result = subprocess.run(
        [pg_binary("pg_dump"), "--no-comments", f"--file={out}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"pg_dump of the test database failed:\n{result.stderr}", False)


def private_postgres_with_schema() -> PrivatePostgres:
    """A started private server with the app's roles and the test database's schema."""
    server = PrivatePostgres()
    try:
        server.start()
        server.psql(
            *("-v", "owner_password=", "-v", "app_password=", "-v", "backup_password="),
            "-f",
            str(Path(settings.BASE_DIR) / "deploy" / "roles.sql"),
        )
        schema, rows = server.directory / "schema.sql", server.directory / "rows.sql"
        _dump(["--schema-only"], schema)
        _dump(["--data-only", *(f"--table={t}" for t in MIGRATION_TABLES)], rows)
        for path in (schema, rows):
            server.psql("-f", str(path), database=DATABASE)
    except BaseException:
        log = server.diagnostics()
        server.remove()
        if log:
            print(log)
        raise
    return server
