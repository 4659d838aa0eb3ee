from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "partnerhub.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from partnerhub.audit.registry import register_tenant_models

        register_tenant_models()
