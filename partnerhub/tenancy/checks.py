"""System checks that keep new tenant-owned models inside the tenancy rules."""

from typing import Any

from django.apps import apps
from django.core.checks import Error, register

from partnerhub.tenancy.models import TenantManager, TenantModel


@register()
def tenant_models_are_complete(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through is not None and through._meta.auto_created:
                errors.append(
                    Error(
                        f"{model.__name__}.{field.name} uses an auto-created M2M table, which has "
                        "no tenant_id and so no row-level security.",
                        hint="Give it a `through` model that inherits TenantModel.",
                        obj=model,
                        id="tenancy.E001",
                    )
                )
        if not isinstance(model._default_manager, TenantManager):
            errors.append(
                Error(
                    f"{model.__name__}'s default manager is not tenant-scoped.",
                    hint="Keep `objects = TenantManager()` (or a subclass) as the first manager.",
                    obj=model,
                    id="tenancy.E002",
                )
            )
    return errors
