"""The audit trail: one append-only row per create, update and delete of tenant data."""

from __future__ import annotations

from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from axes.helpers import get_client_ip_address
from django.db import models

from partnerhub.audit.middleware import current_request
from partnerhub.tenancy.context import get_current_tenant
from partnerhub.tenancy.models import Tenant, TenantManager


class AuditEntryManager(TenantManager, LogEntryManager):
    """Scoped like every tenant-owned model; writes take the tenant of the changed object."""

    def log_create(self, instance: Any, force_log: bool = False, **kwargs: Any) -> Any:
        tenant_id = getattr(instance, "tenant_id", None)
        if tenant_id is None:
            current = get_current_tenant()
            tenant_id = current.pk if current else None
        if tenant_id is None:
            return None
        kwargs.setdefault("tenant_id", tenant_id)
        return super().log_create(instance, force_log=force_log, **kwargs)


class AuditEntry(AbstractLogEntry):
    """Who changed which object of a tenant, when, and each changed field before and after.

    The database refuses UPDATE and DELETE on this table (a trigger, see migration 0002).
    """

    tenant: models.ForeignKey[Tenant, Tenant] = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="+"
    )

    objects = AuditEntryManager()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit entries are append-only.")
        request = current_request.get()
        if request is not None:
            user = getattr(request, "user", None)
            if self.actor_id is None and user is not None and user.is_authenticated:
                self.actor = user
                self.actor_email = user.email
            if self.remote_addr is None:  # type: ignore[has-type]
                self.remote_addr = get_client_ip_address(request) or None
        super().save(*args, **kwargs)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["tenant", "-timestamp"], name="audit_tenant_time"),
            models.Index(
                fields=["tenant", "content_type", "object_pk"], name="audit_tenant_object"
            ),
        ]
