"""Every tenant-owned model is audited, without anyone having to register it."""

from auditlog.registry import auditlog
from django.apps import apps

from partnerhub.tenancy.models import TenantModel

# Fields never copied into the trail in clear text (names are matched per model).
MASKED_FIELDS = ("iban", "account_number", "bank_account", "swift_bic")
EXCLUDED_FIELDS = ("digest", "last_used_at")


def register_tenant_models() -> None:
    audit_model = apps.get_model("audit", "AuditEntry")
    for model in apps.get_models():
        if not issubclass(model, TenantModel) or model is audit_model:
            continue
        if auditlog.contains(model):
            continue
        names = {f.name for f in model._meta.concrete_fields}
        auditlog.register(
            model,
            mask_fields=[f for f in MASKED_FIELDS if f in names],
            exclude_fields=[f for f in EXCLUDED_FIELDS if f in names],
        )
