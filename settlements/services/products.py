"""Products whose usage is settled: create, update, deactivate."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from partnerhub.tenancy.context import require_current_tenant
from settlements.models import Product


@transaction.atomic
def product_create(*, code: str, name: str, unit: str = "unit", is_active: bool = True) -> Product:
    """A new product of the active tenant (its code is unique per tenant)."""
    product = Product(
        tenant=require_current_tenant(), code=code, name=name, unit=unit, is_active=is_active
    )
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, **fields: Any) -> Product:
    """Change a product's name, unit or active flag (the code may change while unused)."""
    for name, value in fields.items():
        setattr(product, name, value)
    product.full_clean()
    product.save()
    return product
