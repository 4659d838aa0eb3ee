"""Personas built once per test: tenant A's admin, manager, finance and viewer, tenant B's
manager (and later partner users). Every isolation test runs as A with B's data present."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.accounts.services import api_token_create
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import membership_set
from partners.models import Partner, PartnerUser
from tests.factories import TenantFactory, UserFactory
from tests.partners.factories import PartnerFactory


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps an asyncio loop running in this thread
    from the first browser test to the end of the session, and Django refuses ORM calls while a
    loop runs; pytest-django's own ordering would put tests that open the database themselves
    (like the worker fault test) after them."""
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
