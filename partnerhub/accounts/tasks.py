from celery import shared_task

from partnerhub.accounts import services
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant


@shared_task(name="partnerhub.accounts.tasks.api_tokens_purge_expired", acks_late=True)
def api_tokens_purge_expired() -> int:
    """Nightly: drop long-expired or revoked tokens, tenant by tenant."""
    removed = 0
    for tenant in Tenant.objects.filter(is_active=True):
        with tenant_context(tenant):
            removed += services.api_tokens_purge_expired()
    return removed
