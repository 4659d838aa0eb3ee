"""The portal demo: two portal users of two demo partners, loaded idempotently."""

from __future__ import annotations

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.demo import DEMO_PASSWORD
from partnerhub.tenancy.models import Membership
from partners.demo import portal
from partners.models import PartnerStatus, PartnerType, PartnerUser
from tests.factories import TenantFactory
from tests.partners.factories import PartnerFactory


def test_portal_demo_links_the_demo_users_to_their_partners_once(db: None) -> None:
    tenant = TenantFactory(name="Demo Telecom", slug="demo")
    with tenant_context(tenant):
        streamwave = PartnerFactory(
            legal_name="StreamWave Media GmbH", trading_name="StreamWave Media"
        )
        nordtower = PartnerFactory(
            legal_name="NordTower Infrastructure AB",
            trading_name="NordTower Infrastructure",
            status=PartnerStatus.DUE_DILIGENCE,
            partner_type=PartnerType.objects.get(key="infrastructure_provider"),
        )
        portal.load(tenant)
        portal.load(tenant)  # a second run changes nothing

        links = {
            link.user.email: link.partner_id for link in PartnerUser.objects.select_related("user")
        }
        assert links == {"partner@demo.test": streamwave.pk, "applicant@demo.test": nordtower.pk}
        roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {Role.PARTNER}
    assert User.objects.get(email="partner@demo.test").check_password(DEMO_PASSWORD)


def test_portal_demo_does_nothing_for_other_tenants(db: None) -> None:
    tenant = TenantFactory(name="Second Telecom", slug="second")
    with tenant_context(tenant):
        PartnerFactory(legal_name="StreamWave Media GmbH", trading_name="StreamWave Media")
        portal.load(tenant)
        assert not PartnerUser.objects.exists()
