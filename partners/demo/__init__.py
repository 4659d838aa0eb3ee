"""Partner demo data for `make run` (idempotent), area by area, in this order."""

from partnerhub.tenancy.models import Tenant
from partners.demo import onboarding, portal, registry, relationship


def load_partner_demo(tenant: Tenant) -> None:
    registry.load(tenant)
    onboarding.load(tenant)
    relationship.load(tenant)
    portal.load(tenant)
