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
from partnerhub.tenancy.services import (
    membership_set,
    tenant_create,
    tenant_initialize,
    tenant_letterhead_update,
)

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

# How the demo tenants sign their partner statements (PDF letterhead).
LETTERHEADS = {
    "demo": {
        "legal_name": "Demo Telecom GmbH",
        "address": "Friedrichstraße 100\n10117 Berlin\nGermany",
        "tax_id": "DE999999999",
    },
    "second": {
        "legal_name": "Second Telecom plc",
        "address": "1 Example Street\nLondon EC1A 1AA\nUnited Kingdom",
        "tax_id": "GB999999973",
    },
}

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
        if not tenant.address:
            tenant_letterhead_update(tenant=tenant, **LETTERHEADS[spec["slug"]])
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
