from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from partnerhub.accounts.roles import Perm
from partnerhub.audit.filters import AuditEntryFilter
from partnerhub.audit.models import AuditEntry
from partnerhub.core.api import TenantScopedViewSet


class AuditEntrySerializer(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    action = serializers.CharField(source="get_action_display")
    actor = serializers.EmailField(source="actor_email", allow_null=True)
    changes = serializers.JSONField()

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "timestamp",
            "actor",
            "action",
            "model",
            "object_pk",
            "object_repr",
            "changes",
            "remote_addr",
        ]
        read_only_fields = fields

    def get_model(self, entry: AuditEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"


@extend_schema(tags=["audit"])
class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The tenant's audit trail (tenant admins). Append-only: no write methods exist."""

    model = AuditEntry
    serializer_class = AuditEntrySerializer
    read_perm = Perm.AUDIT_VIEW
    filterset_class = AuditEntryFilter
    ordering_fields = ["timestamp"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("content_type").order_by("-timestamp", "-id")
