"""Writes for tenants and memberships."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Membership, Tenant

# Apps append what every new tenant needs (starter data); each runs inside the tenant's context.
TENANT_INITIALIZERS: list[Callable[[Tenant], None]] = []


@transaction.atomic
def tenant_create(
    *, name: str, slug: str, default_currency: str = "EUR", timezone: str = "UTC"
) -> Tenant:
    tenant = Tenant(name=name, slug=slug, default_currency=default_currency, timezone=timezone)
    tenant.full_clean()
    tenant.save()
    tenant_initialize(tenant=tenant)
    return tenant


def tenant_initialize(*, tenant: Tenant) -> None:
    """Run every app's initializer for ``tenant``; each is idempotent."""
    with tenant_context(tenant):
        for initializer in TENANT_INITIALIZERS:
            initializer(tenant)


@transaction.atomic
def tenant_letterhead_update(
    *, tenant: Tenant, legal_name: str, address: str, tax_id: str
) -> Tenant:
    """Set how the tenant names itself on the documents it issues (partner statements)."""
    tenant.legal_name, tenant.address, tenant.tax_id = legal_name, address, tax_id
    tenant.full_clean()
    tenant.save(update_fields=["legal_name", "address", "tax_id"])
    return tenant


@transaction.atomic
def membership_set(*, tenant: Tenant, user: User, role: Role) -> Membership:
    """Give ``user`` ``role`` in ``tenant`` (creating or changing the membership)."""
    with tenant_context(tenant):
        membership = Membership.objects.filter(user=user).first()
        if membership is None:
            membership = Membership(tenant=tenant, user=user, role=role)
        elif membership.role == role:
            return membership
        membership.role = role
        membership.full_clean()
        membership.save()
        return membership
