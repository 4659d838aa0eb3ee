"""Real Celery workers for fault tests: a process of their own on a queue of their own (so no
other worker takes the tasks), the broker being the suite's Redis (REDIS_URL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def broker_url() -> str:
    """Kombu has no ``unix://`` transport: a Redis socket URL becomes ``redis+socket://``."""
    url = os.environ["REDIS_URL"]
    if url.startswith("unix://"):
        path, _, query = url[len("unix://") :].partition("?")
        db = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("db", "0")
        return f"redis+socket://{path}?virtual_host={db}"
    return url


def celery_worker(queue: str, log: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """A prefork worker with one child process, consuming ``queue`` only, in a session of its
    own (``os.killpg`` stops it and its child)."""
    environ = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        **env,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "partnerhub",
            "worker",
            "-Q",
            queue,
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=environ,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-6000:]}")
