"""The registry's demo data: ~40 partners of every type and status, idempotent."""

from __future__ import annotations

import pytest

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import tenant_context
from partners.demo import registry as demo
from partners.models import BankDetails, Contact, Partner, PartnerStatus, PartnerType
from partners.services.registry import iban_is_valid
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_demo_covers_every_type_and_status_and_a_second_run_changes_nothing() -> None:
    User.objects.create_user("manager@demo.test", "x")
    User.objects.create_user("admin@demo.test", "x")
    tenant = TenantFactory(slug="demo")
    with tenant_context(tenant):
        demo.load(tenant)
        counts = (Partner.objects.count(), Contact.objects.count(), BankDetails.objects.count())
        demo.load(tenant)
        assert (
            Partner.objects.count(),
            Contact.objects.count(),
            BankDetails.objects.count(),
        ) == counts
        assert 35 <= counts[0] <= 45
        partners = Partner.objects.select_related("partner_type", "account_owner")
        assert {p.partner_type.key for p in partners} == set(
            PartnerType.objects.filter(is_builtin=True).values_list("key", flat=True)
        )
        assert {p.status for p in partners} == set(PartnerStatus.values)
        statuses = [p.status for p in partners]
        assert max(set(statuses), key=statuses.count) == PartnerStatus.ACTIVE
        assert all(p.rejection_reason for p in partners if p.status == PartnerStatus.REJECTED)
        assert all(p.account_owner is not None for p in partners)
        assert all(p.last_contact_on is None for p in partners)
        streamwave = Partner.objects.get(trading_name="StreamWave Media")
        assert (streamwave.partner_type.key, streamwave.status) == ("content_provider", "active")
        nordtower = Partner.objects.get(trading_name="NordTower Infrastructure")
        assert (nordtower.partner_type.key, nordtower.status) == (
            "infrastructure_provider",
            "due_diligence",
        )
        for partner in partners:
            assert Contact.objects.filter(partner=partner, is_primary=True).count() == 1
        assert all(iban_is_valid(b.iban) for b in BankDetails.objects.all())
        assert all(
            BankDetails.objects.filter(partner=p).exists()
            for p in partners
            if p.status == PartnerStatus.ACTIVE
        )


def test_second_tenant_gets_four_partners() -> None:
    tenant = TenantFactory(slug="second")
    with tenant_context(tenant):
        demo.load(tenant)
        assert Partner.objects.count() == 4
