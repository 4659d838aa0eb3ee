from typing import Any

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from partnerhub.audit.models import AuditEntry


class AuditEntryFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(
        method="filter_model", label="Object type (app_label.model, e.g. partners.partner)"
    )
    object_pk = django_filters.CharFilter(label="Object id")
    actor = django_filters.CharFilter(field_name="actor_email", lookup_expr="icontains")
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices)
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["model", "object_pk", "actor", "action", "since", "until"]

    def filter_model(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        app_label, _, model = value.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        return queryset.filter(content_type=content_type) if content_type else queryset.none()
