"""How the suite runs under pytest-xdist (tests/conftest.py): each worker on its own Redis
database, whole files as units of work, the browser tests as one unit."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from partnerhub.celery import app
from partnerhub.settings import _celery_url
from tests.conftest import RUN_REDIS_URL, redis_url_for_worker, worker_index, xdist_unit


@pytest.mark.parametrize(
    ("url", "offset", "expected"),
    [
        ("unix:///srv/x/redis.sock?db=1", 0, "unix:///srv/x/redis.sock?db=1"),
        ("unix:///srv/x/redis.sock?db=1", 3, "unix:///srv/x/redis.sock?db=4"),
        ("unix:///srv/x/redis.sock", 2, "unix:///srv/x/redis.sock?db=2"),
        ("redis://127.0.0.1:6379/1", 1, "redis://127.0.0.1:6379/2"),
        ("redis://127.0.0.1:6379", 1, "redis://127.0.0.1:6379/1"),
        (
            "redis://:pw@cache:6379/0?socket_timeout=5",
            2,
            "redis://:pw@cache:6379/2?socket_timeout=5",
        ),
    ],
)
def test_each_worker_gets_the_next_redis_database(url: str, offset: int, expected: str) -> None:
    assert redis_url_for_worker(url, offset) == expected


def test_this_process_uses_its_workers_redis_database() -> None:
    """Cache, Celery and subprocesses (through REDIS_URL) all use this worker's database."""
    url = redis_url_for_worker(RUN_REDIS_URL, worker_index())
    assert settings.CACHES["default"]["LOCATION"] == os.environ["REDIS_URL"] == url
    if "CELERY_BROKER_URL" not in os.environ:
        assert settings.CELERY_BROKER_URL == app.conf.broker_url == _celery_url(url)


def test_files_are_units_and_the_browser_tests_one_unit() -> None:
    assert xdist_unit("tests/kpis/test_alerts.py::test_x[a-b]") == "tests/kpis/test_alerts.py"
    assert xdist_unit("tests/e2e/test_login.py::test_y") == "tests/e2e"
    assert xdist_unit("tests/e2e/test_kpis_alerts.py::test_z") == "tests/e2e"
    assert xdist_unit("tests/test_settings.py::test_w") == "tests/test_settings.py"
