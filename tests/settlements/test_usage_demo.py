"""The usage demo: products, three months of usage in three currencies, FX rates; idempotent."""

from __future__ import annotations

from partnerhub.tenancy.context import tenant_context
from settlements import demo_usage
from settlements.models import FxRate, Product, UsageRecord
from tests.factories import TenantFactory
from tests.partners.factories import PartnerFactory


def test_demo_usage_loads_once(db) -> None:
    tenant = TenantFactory(slug="demo", name="Demo", timezone="Europe/Berlin")
    with tenant_context(tenant):
        PartnerFactory.create_batch(3)
        demo_usage.load(tenant)
        rows = UsageRecord.objects.count()
        assert rows > 15_000
        assert set(UsageRecord.objects.values_list("currency", flat=True).distinct()) == {
            "EUR",
            "USD",
            "GBP",
        }
        assert Product.objects.count() == len(demo_usage.DEMO_PRODUCTS)
        fx = FxRate.objects.count()
        assert fx > 0
        demo_usage.load(tenant)
        assert UsageRecord.objects.count() == rows
        assert FxRate.objects.count() == fx
