"""The partitioned usage table: RLS on parent, partitions and key table; the rls opt-outs."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.rls import has_tenant_key
from settlements.models import Product, UsageRecord
from settlements.services.usage_import import usage_bulk_ingest

PER_PARTITION = "SELECT count(*) FROM settlements_usagerecord WHERE tableoid = %s::regclass"


def _one(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def test_usage_table_is_partitioned_with_forced_rls_and_no_tenant_id_key(db) -> None:
    assert _one(
        "SELECT partstrat FROM pg_partitioned_table "
        "WHERE partrelid = 'settlements_usagerecord'::regclass"
    ) == ("r",)
    for table in ("settlements_usagerecord", "settlements_usagekey"):
        assert _one(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
            [table],
        ) == (True, True)
    assert not has_tenant_key(UsageRecord)
    assert has_tenant_key(Product)
    # The parent carries no composite foreign keys (rls_tenant_fks = False), Product keeps its key.
    assert _one(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'settlements_usagerecord'::regclass "
        "AND contype = 'f'"
    ) == (0,)
    assert _one(
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'settlements_product' "
        "AND indexdef LIKE '%%(tenant_id, id)%%'"
    ) == (1,)


def test_rows_in_the_default_partition_move_into_a_new_month(personas) -> None:
    tenant = personas.tenant_a
    with tenant_context(tenant):
        Product.objects.create(tenant=tenant, code="sms", name="SMS")
        # An ORM insert for a month without a partition lands in the default partition ...
        UsageRecord.objects.create(
            tenant=tenant,
            partner=personas.a_partner,
            product_code="sms",
            event_time=datetime(2031, 5, 3, tzinfo=UTC),
            quantity=1,
            gross_amount=1,
            currency="EUR",
            external_id="orm-1",
        )
        assert _one(PER_PARTITION, ["settlements_usagerecord_default"]) == (1,)
        # ... and moves when an import creates that month's partition.
        imp, _ = usage_bulk_ingest(
            rows=[
                {
                    "partner": personas.a_partner.pk,
                    "product_code": "sms",
                    "event_time": "2031-05-04T00:00:00Z",
                    "quantity": "1",
                    "gross_amount": "1",
                    "currency": "EUR",
                    "external_id": "bulk-1",
                }
            ]
        )
        assert imp.inserted == 1
        assert _one(PER_PARTITION, ["settlements_usagerecord_default"]) == (0,)
        assert _one(PER_PARTITION, ["settlements_usagerecord_y2031m05"]) == (2,)
        # The new partition carries the tenant policy, enabled and forced.
        assert _one(
            "SELECT relrowsecurity, relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid) FROM pg_class c "
            "WHERE oid = 'settlements_usagerecord_y2031m05'::regclass"
        ) == (True, True, True)
    with tenant_context(personas.tenant_b):
        assert _one(PER_PARTITION, ["settlements_usagerecord_y2031m05"]) == (0,)
        assert _one("SELECT count(*) FROM settlements_usagekey") == (0,)
