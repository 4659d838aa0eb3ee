"""Tenants (the CSPs using PartnerHub), memberships, and the base of every tenant-owned model."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import require_current_tenant

currency_code_validator = RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as EUR.")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}.")


class Tenant(models.Model):
    """A CSP using PartnerHub. Platform-level: not itself tenant-owned, so it has no RLS."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True)
    default_currency = models.CharField(
        max_length=3, default="EUR", validators=[currency_code_validator]
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    # Letterhead of documents the tenant issues (partner statements).
    legal_name = models.CharField(max_length=200, blank=True, help_text="Defaults to the name.")
    address = models.TextField(blank=True, help_text="Postal address, one line per row.")
    tax_id = models.CharField(max_length=64, blank=True, help_text="VAT or tax number.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        return self.filter(tenant=tenant)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager of tenant-owned models: always scoped to the active tenant.

    It refuses to build a queryset when no tenant is active, so a forgotten scope is an error,
    never a leak. Row-level security in PostgreSQL is the second wall behind it.
    """

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(tenant=require_current_tenant())

    def none(self) -> TenantQuerySet:
        # An empty queryset cannot leak; tools (schema generation) build one without a tenant.
        return super().get_queryset().none()


class TenantModel(models.Model):
    """Abstract base for every row that belongs to a tenant.

    Row-level security, the ``(tenant_id, id)`` key and tenant-consistent foreign keys are
    added to its table automatically after each migrate (``partnerhub.tenancy.rls``).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", editable=False)

    objects: ClassVar[TenantManager] = TenantManager()

    # Extra OR-ed condition for the RLS policy, for tables a user must see across tenants.
    rls_extra_using: ClassVar[str | None] = None

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        current = require_current_tenant()
        if self.tenant_id is None:
            self.tenant = current
        elif self.tenant_id != current.pk:
            raise ValidationError("This object belongs to another tenant.")
        super().save(*args, **kwargs)


class Membership(TenantModel):
    """A user's role in a tenant. A user sees their own memberships in every tenant."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    rls_extra_using = "user_id = NULLIF(current_setting('app.user_id', true), '')::bigint"

    objects: ClassVar[TenantManager] = TenantManager()
    # Lists a user's tenants (login, tenant switcher); RLS still shows only the user's own rows.
    across_tenants = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant_id} as {self.role}"
