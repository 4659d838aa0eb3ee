from __future__ import annotations

from django.db.models import QuerySet

from partnerhub.audit.models import AuditEntry


def audit_entry_list() -> QuerySet[AuditEntry]:
    """The active tenant's audit trail, newest first, with what the pages and API show."""
    return AuditEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
