"""End-to-end fixtures: a real server on a fresh database, driven by Debian's Chromium.

Not pytest-django's ``live_server``: its flush TRUNCATEs every table, and the audit table is
append-only. Here the package gets its own database ``partnerhub_e2e_<pid>``, migrated and
loaded with the demo data, served by ``manage.py runserver`` in a subprocess, and dropped at
the end. The test process never touches that database, so no test needs the ``db`` fixture.

The fixtures are package-scoped: Playwright's sync API keeps an asyncio loop running in this
thread while it is open, and Django refuses ORM calls while a loop runs, so the browser (and
the server with it) is closed as soon as the last browser test is done. The tests of this
package run one after the other, in a serial run last and under pytest-xdist as one unit on
one worker (``tests/conftest.py``), which goes on with other tests afterwards.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PARTNERHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 30.0
# migrate + load_demo; a busy machine may need more (PARTNERHUB_E2E_COMMAND_TIMEOUT seconds).
COMMAND_TIMEOUT = float(os.environ.get("PARTNERHUB_E2E_COMMAND_TIMEOUT", "300"))


def _with_database(url: str, name: str) -> str:
    """The same server, role and options, another database (the host stays %2F-encoded)."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`manage.py {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}",
            pytrace=False,
        )


def _grant_app_role(owner_url: str, owner: str, app: str) -> None:
    # What deploy/roles.sql does after `\connect`: default privileges live in each database,
    # and a new database has none, so the app role could read nothing the owner creates.
    if owner == app:
        return
    owner_role, app_role = sql.Identifier(owner), sql.Identifier(app)
    default = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT ").format(
        owner_role
    )
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app_role))
        for grant in (
            "SELECT, INSERT, UPDATE, DELETE ON TABLES",
            "USAGE, SELECT ON SEQUENCES",
            "EXECUTE ON FUNCTIONS",
        ):
            conn.execute(default + sql.SQL(grant) + sql.SQL(" TO {}").format(app_role))


def _wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    health_url = f"{base_url}/healthz"  # always our own http://127.0.0.1 server
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"The e2e server exited with {server.returncode}:\n{log.read_text()[-5000:]}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(health_url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.2)
    pytest.fail(
        f"The e2e server did not answer /healthz within {SERVER_START_TIMEOUT:.0f} s "
        f"(last: {last_error}):\n{log.read_text()[-5000:]}",
        pytrace=False,
    )


class Mailbox:
    """The emails the e2e server sent: Django's file backend writes them to one directory."""

    SEPARATOR = b"\n" + b"-" * 79 + b"\n"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self) -> list[EmailMessage]:
        found: list[EmailMessage] = []
        for path in sorted(self.directory.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
            for raw in path.read_bytes().split(self.SEPARATOR):
                if raw.strip():
                    message = email.message_from_bytes(raw, policy=email.policy.default)
                    found.append(message)  # type: ignore[arg-type]
        return found

    def last_to(self, address: str, *, timeout: float = 10.0) -> EmailMessage:
        """The newest email to ``address``, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [m for m in self.messages() if address.lower() in str(m["To"]).lower()]
            if matching:
                return matching[-1]
            if time.monotonic() > deadline:
                pytest.fail(f"No email to {address} within {timeout:.0f} s.", pytrace=False)
            time.sleep(0.2)

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",)) or message
        return str(part.get_content())


@pytest.fixture(scope="package")
def e2e_mail_dir() -> Iterator[Path]:
    """Where the e2e server writes its emails (EMAIL_URL=filemail://...)."""
    directory = Path(tempfile.mkdtemp(prefix="partnerhub_e2e_mail_"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def mailbox(e2e_server: str, e2e_mail_dir: Path) -> Mailbox:
    """The emails sent by the e2e server so far, e.g. ``mailbox.last_to("a@b.test")``."""
    return Mailbox(e2e_mail_dir)


@pytest.fixture(scope="package")
def e2e_server(e2e_mail_dir: Path) -> Iterator[str]:
    """Base URL of a runserver on a fresh, migrated database holding the demo data."""
    app_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL") or app_url
    if not app_url:
        pytest.fail(
            "DATABASE_URL is not set: run the suite with `make test`, or export the URLs of "
            "the embedded services (`python -m partnerhub.devservices env`).",
            pytrace=False,
        )
    name = f"partnerhub_e2e_{os.getpid()}"
    owner = urlsplit(owner_url).username or ""
    app = urlsplit(app_url).username or ""
    maintenance_url = _with_database(owner_url, "postgres")
    database = sql.Identifier(name)

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, sql.Identifier(owner)))

    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    log = Path(tempfile.mkstemp(prefix=f"{name}_", suffix=".log")[1])
    worker_log = Path(tempfile.mkstemp(prefix=f"{name}_worker_", suffix=".log")[1])
    media = Path(tempfile.mkdtemp(prefix=f"{name}_media_"))  # uploads never land in .data/
    try:
        _grant_app_role(_with_database(owner_url, name), owner, app)
        env = {
            **os.environ,
            "DATABASE_URL": _with_database(app_url, name),
            "DATABASE_OWNER_URL": _with_database(owner_url, name),
            "DJANGO_DEBUG": "1",
            "CACHE_KEY_PREFIX": name,  # Redis is shared with `make run`: keep our keys apart
            # django-environ drops the path's first "/": four slashes keep it absolute.
            "EMAIL_URL": f"filemail:///{e2e_mail_dir}",
            "PARTNERHUB_MEDIA_ROOT": str(media),
            "PYTHONUNBUFFERED": "1",
            # Background work (exports, runs, imports) goes to this server's own queue, which
            # the worker below consumes: nothing queued by other tests reaches this database.
            "CELERY_TASK_DEFAULT_QUEUE": name,
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
        _manage(["migrate", "--database=owner", "--no-input"], env)
        _manage(["load_demo"], env)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        with worker_log.open("wb") as out:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "partnerhub",
                    "worker",
                    "-Q",
                    name,
                    "--pool",
                    "solo",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_until_healthy(base_url, server, log)
        yield base_url
    finally:
        for process in (server, worker):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        log.unlink(missing_ok=True)
        worker_log.unlink(missing_ok=True)
        shutil.rmtree(media, ignore_errors=True)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium; never a downloaded one (`playwright install` is not used)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM} and the end-to-end tests need it. "
            "Install it with `apt-get install -y chromium` (Debian/Ubuntu, as root; "
            "`make test` does this when it can), or set PARTNERHUB_CHROMIUM to a "
            "Chromium/Chrome binary.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; JavaScript errors fail the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    yield new_page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
