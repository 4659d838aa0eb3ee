"""The demo data of `make run`: exactly the tenants and users the README lists.

Idempotent: a second run finds everything in place and changes nothing. Later apps add
their demo data through ``DEMO_LOADERS`` (callables taking the tenant), in order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import membership_set, tenant_create, tenant_initialize

DEMO_PASSWORD = "partnerhub-demo"  # noqa: S105 - published demo credential

TENANTS = [
    {
        "name": "Demo Telecom",
        "slug": "demo",
        "default_currency": "EUR",
        "timezone": "Europe/Berlin",
    },
    {
        "name": "Second Telecom",
        "slug": "second",
        "default_currency": "GBP",
        "timezone": "Europe/London",
    },
]

USERS = [
    ("admin@demo.test", "Ada Admin", "demo", Role.ADMIN),
    ("manager@demo.test", "Max Manager", "demo", Role.PARTNER_MANAGER),
    ("finance@demo.test", "Fiona Finance", "demo", Role.FINANCE),
    ("viewer@demo.test", "Vic Viewer", "demo", Role.VIEWER),
    ("manager@second.test", "Sam Second", "second", Role.PARTNER_MANAGER),
]

DEMO_LOADERS: list[Callable[[Tenant], None]] = []


@transaction.atomic
def load_demo() -> dict[str, int]:
    created = {"tenants": 0, "users": 0}
    tenants: dict[str, Tenant] = {}
    for spec in TENANTS:
        tenant = Tenant.objects.filter(slug=spec["slug"]).first()
        if tenant is None:
            tenant = tenant_create(**spec)
            created["tenants"] += 1
        tenants[spec["slug"]] = tenant
        tenant_initialize(tenant=tenant)
    for email, full_name, slug, role in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
            created["users"] += 1
        membership_set(tenant=tenants[slug], user=user, role=role)
    for loader in DEMO_LOADERS:
        for tenant in tenants.values():
            with tenant_context(tenant):
                loader(tenant)
    return created
