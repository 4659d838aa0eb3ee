"""Personas built once per test: tenant A's admin, manager, finance and viewer, tenant B's
manager (and later partner users). Every isolation test runs as A with B's data present."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.test import Client, override_settings

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.accounts.services import api_token_create
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import membership_set
from partners.models import Partner, PartnerUser
from tests.factories import TenantFactory, UserFactory
from tests.partners.factories import PartnerFactory

# Redis has 16 databases by default, and `make run` keeps database 0: more workers than this
# would share one. Each worker also migrates its own test database and, with the browser tests,
# nothing runs faster past a worker per core.
MAX_WORKERS = 8


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per usable core, at most MAX_WORKERS;
    PYTEST_XDIST_AUTO_NUM_WORKERS overrides it, as in pytest-xdist."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


E2E_SCOPE = "tests/e2e"


def xdist_unit(nodeid: str) -> str:
    """The unit of work a test belongs to under pytest-xdist: its file, or the e2e package."""
    path = nodeid.split("::", 1)[0]
    return E2E_SCOPE if path.startswith(f"{E2E_SCOPE}/") else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` (xdist's default ``--dist load``): each test file is one unit of work, so its
    module fixtures (the isolation matrix's worlds) are built once; the browser tests are one
    unit, so one worker starts the e2e server, and it is handed out first: at about three
    minutes it is the longest unit by far, and the other workers share the files meanwhile.
    An explicit ``--dist`` other than ``load`` gets pytest-xdist's own scheduler."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_unit(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if E2E_SCOPE in self.workqueue:
                self.workqueue.move_to_end(E2E_SCOPE, last=False)
            super()._assign_work_unit(node)

    return SuiteScheduling(config, log)


# The Redis of the whole run, as `make` gives it; each xdist worker moves to its own database.
RUN_REDIS_URL = os.environ.get("REDIS_URL", "")


def worker_index() -> int:
    """0, 1, … for the pytest-xdist workers gw0, gw1, …; 0 in a serial run."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def redis_url_for_worker(url: str, offset: int) -> str:
    """``url`` with its database number raised by ``offset``: ``unix://…?db=N`` or
    ``redis://host:port/N``."""
    head, _, query = url.partition("?")
    params = dict(parse_qsl(query))
    if head.startswith("unix:") or "db" in params:
        params["db"] = str(int(params.get("db", "0")) + offset)
        return f"{head}?{urlencode(params)}"
    prefix, _, db = head.rstrip("/").rpartition("/")
    if not db.isdigit():  # redis://host:port: database 0
        prefix, db = head.rstrip("/"), "0"
    return f"{prefix}/{int(db) + offset}" + (f"?{query}" if query else "")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets its own Redis database (REDIS_URL's number plus the
    worker's index): the tests clear the cache with FLUSHDB, count throttles, claim beat slots
    and queue Celery tasks there, and must not see another worker's. Subprocesses (the e2e
    server, Celery workers) inherit the changed REDIS_URL. The test databases are per process
    already (``django_db_setup``)."""
    if worker_index() == 0:
        return
    import redis
    from django.conf import settings

    from partnerhub.celery import app

    url = redis_url_for_worker(RUN_REDIS_URL, worker_index())
    try:
        redis.Redis.from_url(url, socket_timeout=5).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(
            f"xdist worker gw{worker_index()} cannot use its Redis database {url} ({exc}): "
            "run fewer workers (-n) or give Redis more databases."
        ) from exc
    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    if "CELERY_BROKER_URL" not in os.environ:  # derived from REDIS_URL, as in settings.py
        from partnerhub.settings import _celery_url

        settings.CELERY_BROKER_URL = _celery_url(url)
        app.conf.broker_url = settings.CELERY_BROKER_URL


@pytest.fixture(scope="session", autouse=True)
def _private_media_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Uploads and exports of the tests go to a directory of this run (of this xdist worker),
    never to the development media in .data/media."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last in a serial run, all together: their server and browser are
    package fixtures (tests/e2e/conftest.py), started once and closed after the last of them.
    Under pytest-xdist the scheduler above decides the order of the files instead."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """Create and migrate the test database as the owner role; "default" (the application role,
    under row-level security) mirrors it.

    pytest-django sets up only the aliases the tests name ("default"); a mirror alone would
    leave the tests on the development database, so both aliases are always set up here.
    """
    import os

    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    # One database per test run, so parallel runs on one server never drop each other's.
    connections["owner"].settings_dict["TEST"]["NAME"] = f"test_partnerhub_{os.getpid()}"
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"owner", "default"},
            serialized_aliases=set(),
        )
    for alias in ("owner", "default"):
        name = connections[alias].settings_dict["NAME"]
        assert name.startswith("test_"), f"{alias} is not on a test database: {name}"
    yield
    with django_db_blocker.unblock():
        connections.close_all()  # the mirror's session would keep the database in use
        teardown_databases(config, verbosity=request.config.option.verbose)


@dataclass
class Personas:
    tenant_a: Tenant
    tenant_b: Tenant
    a_admin: User
    a_manager: User
    a_finance: User
    a_viewer: User
    b_manager: User
    # Partner data: A has two partners (the partner user belongs to a_partner), B has one.
    a_partner: Partner
    a_other_partner: Partner
    b_partner: Partner
    a_partner_user: User


@pytest.fixture
def personas(db: None) -> Personas:
    return personas_build()


def personas_build() -> Personas:
    """The personas and their partners; also used once per module by the isolation matrix."""
    tenant_a = TenantFactory(name="Alpha Telecom", slug="alpha")
    tenant_b = TenantFactory(name="Bravo Telecom", slug="bravo")
    users = {
        "a_admin": (tenant_a, Role.ADMIN),
        "a_manager": (tenant_a, Role.PARTNER_MANAGER),
        "a_finance": (tenant_a, Role.FINANCE),
        "a_viewer": (tenant_a, Role.VIEWER),
        "b_manager": (tenant_b, Role.PARTNER_MANAGER),
    }
    made = {}
    for key, (tenant, role) in users.items():
        user = UserFactory(email=f"{key.replace('_', '.')}@example.test")
        membership_set(tenant=tenant, user=user, role=role)
        made[key] = user
    with tenant_context(tenant_a):
        made["a_partner"] = PartnerFactory(legal_name="Acme Content Ltd", trading_name="Acme")
        made["a_other_partner"] = PartnerFactory(legal_name="Other Media SA", trading_name="Other")
    with tenant_context(tenant_b):
        made["b_partner"] = PartnerFactory(legal_name="Bravo Foreign Co", trading_name="Foreign")
    partner_user = UserFactory(email="a.partner@example.test")
    membership_set(tenant=tenant_a, user=partner_user, role=Role.PARTNER)
    with tenant_context(tenant_a):
        PartnerUser.objects.create(user=partner_user, partner=made["a_partner"])
    made["a_partner_user"] = partner_user
    return Personas(tenant_a=tenant_a, tenant_b=tenant_b, **made)


@pytest.fixture
def as_tenant_a(personas: Personas) -> Iterator[Tenant]:
    with tenant_context(personas.tenant_a) as tenant:
        yield tenant


@pytest.fixture
def as_tenant_b(personas: Personas) -> Iterator[Tenant]:
    with tenant_context(personas.tenant_b) as tenant:
        yield tenant


def login(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def bearer(user: User, tenant: Tenant) -> Client:
    """An API client authenticated with a fresh bearer token of ``user`` in ``tenant``."""
    with tenant_context(tenant):
        issued = api_token_create(user=user, name="test")
    return Client(headers={"Authorization": f"Bearer {issued.raw}"})


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Personas hash passwords in every test; a real hasher would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttles and lockouts live in Redis: every test starts from an empty cache.

    `make test` gives the tests their own Redis database number, so this never touches the
    data of a running `make run`.
    """
    from django.core.cache import cache

    cache.clear()
    yield
