"""The API base every app builds on: tenant-scoped viewsets and relation fields."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework import serializers, viewsets

from partnerhub.accounts.roles import Perm
from partnerhub.core.errors import ErrorSerializer
from partnerhub.tenancy.context import require_current_tenant

__all__ = ["ErrorSerializer", "TenantPrimaryKeyRelatedField", "TenantScopedViewSet"]


class TenantScopedViewSet(viewsets.GenericViewSet):
    """Base of every viewset over tenant-owned rows.

    The queryset is built per request from the model's tenant-scoped default manager.
    Subclasses shape it in ``scope_queryset``; overriding ``get_queryset`` is refused, so no
    subclass can step around the tenant scope (RLS in the database is the second wall).
    Filter with an explicit ``filterset_class``: ``filterset_fields`` builds its FilterSet
    from the default manager outside any request, where no tenant is active.
    """

    model: ClassVar[type[Model]]
    read_perm: ClassVar[Perm | None] = None
    write_perm: ClassVar[Perm | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ or "queryset" in cls.__dict__:
            raise ImproperlyConfigured(
                f"{cls.__name__}: shape the queryset in scope_queryset(); "
                "get_queryset/queryset may not be overridden on tenant-scoped viewsets."
            )

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no tenant
            return self.model._base_manager.none()
        require_current_tenant()
        return self.scope_queryset(self.model._default_manager.all())

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(tenant=require_current_tenant())


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key input that only accepts ids of the active tenant's rows.

    Another tenant's id gets exactly the answer of an id that does not exist.
    """

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        kwargs.setdefault("queryset", model._default_manager.none())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.all()
