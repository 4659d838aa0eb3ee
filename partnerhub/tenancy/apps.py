from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenancyConfig(AppConfig):
    name = "partnerhub.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from partnerhub.tenancy import checks  # noqa: F401 - registers system checks
        from partnerhub.tenancy.rls import sync_after_migrate

        post_migrate.connect(sync_after_migrate, dispatch_uid="tenancy-rls-sync")
