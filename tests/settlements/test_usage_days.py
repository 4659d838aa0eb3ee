"""Usage days (``UsageDay``): the triggers keep them equal to the records they sum, however the
records are written, changed or removed, per local day of the tenant's time zone."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.tenancy.context import tenant_context
from settlements.models import Product, UsageDay, UsageImport, UsageRecord
from settlements.services.usage_import import (
    usage_bulk_ingest,
    usage_import_create,
    usage_import_run,
)

HEADER = "partner,product_code,event_time,quantity,gross_amount,tax_amount,currency,external_id\n"

# The records summed straight from the usage table, the way the days must have summed them.
RECORD_SUMS = """
    SELECT r.partner_id, (r.event_time AT TIME ZONE %s)::date, r.product_code, r.currency,
           r.usage_import_id, count(*), sum(r.quantity), sum(r.gross_amount), sum(r.tax_amount)
    FROM settlements_usagerecord r
    GROUP BY 1, 2, 3, 4, 5
"""


def days(tenant) -> set[tuple]:
    with tenant_context(tenant):
        return set(
            UsageDay.objects.values_list(
                "partner_id",
                "day",
                "product_code",
                "currency",
                "usage_import_id",
                "record_count",
                "quantity",
                "gross_amount",
                "tax_amount",
            )
        )


def record_sums(tenant) -> set[tuple]:
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(RECORD_SUMS, [tenant.timezone])
        return set(cursor.fetchall())


@pytest.fixture
def kathmandu(personas):
    """Tenant A in UTC+05:45, so that local days and UTC days differ by a quarter hour."""
    tenant = personas.tenant_a
    tenant.timezone = "Asia/Kathmandu"
    tenant.save()
    for t in (personas.tenant_a, personas.tenant_b):
        with tenant_context(t):
            Product.objects.create(tenant=t, code="sms", name="SMS")
            Product.objects.create(tenant=t, code="video", name="Video")
    return personas


def record(partner, external_id: str, when: datetime, gross: str = "1.00", **extra) -> UsageRecord:
    return UsageRecord.objects.create(
        partner=partner,
        product_code=extra.pop("product_code", "sms"),
        event_time=when,
        quantity=extra.pop("quantity", 1),
        gross_amount=Decimal(gross),
        tax_amount=extra.pop("tax_amount", 0),
        currency=extra.pop("currency", "EUR"),
        external_id=external_id,
        **extra,
    )


def csv_import(tenant, body: str, policy: str = "all_or_nothing") -> UsageImport:
    with tenant_context(tenant):
        imp = usage_import_create(
            file=SimpleUploadedFile("u.csv", (HEADER + body).encode()), policy=policy
        )
    usage_import_run(tenant=tenant, import_id=imp.pk)
    with tenant_context(tenant):
        return UsageImport.objects.get(pk=imp.pk)


def test_every_way_of_writing_usage_is_summed_per_local_day(kathmandu) -> None:
    personas = kathmandu
    tenant, p = personas.tenant_a, personas.a_partner.pk
    done = csv_import(
        tenant,
        f"{p},sms,2026-01-31T18:10:00Z,2,1.50,0.25,EUR,c1\n"  # 23:55 on 31 January there
        f"{p},sms,2026-01-31T18:20:00Z,3,2.50,0.50,EUR,c2\n"  # 00:05 on 1 February there
        f"{p},video,2026-02-01T09:00:00Z,1,-4.00,0,USD,c3\n",
    )
    assert (done.status, done.inserted) == ("done", 3)
    rejected = csv_import(
        tenant, f"{p},sms,2026-02-01T09:00:00Z,1,1.00,0,EUR,c4\n{p},sms,x,1,1,0,EUR,c5\n"
    )
    assert (rejected.status, rejected.inserted) == ("rejected", 0)
    partial = csv_import(
        tenant,
        f"{p},sms,2026-02-01T09:00:00Z,1,1.00,0,EUR,c6\n{p},sms,x,1,1,0,EUR,c7\n"
        f"{p},sms,2026-02-01T09:00:00Z,1,9.00,0,EUR,c1\n",  # a duplicate: stored once
        policy="partial",
    )
    assert (partial.status, partial.inserted, partial.duplicates) == ("done", 1, 1)
    with tenant_context(tenant):
        bulk, errors = usage_bulk_ingest(
            rows=[
                {
                    "partner": p,
                    "product_code": "sms",
                    "event_time": "2026-02-01T09:30:00Z",
                    "quantity": "1",
                    "gross_amount": "10",
                    "currency": "EUR",
                    "external_id": "b1",
                }
            ]
        )
        assert not errors and bulk.inserted == 1
        record(personas.a_other_partner, "orm-1", datetime(2026, 2, 28, 18, 14, tzinfo=UTC))

    assert days(tenant) == record_sums(tenant)
    by_key = {(d[0], d[1], d[2], d[3], d[4]): d[5:] for d in days(tenant)}
    jan31, feb1 = datetime(2026, 1, 31).date(), datetime(2026, 2, 1).date()
    assert by_key[(p, jan31, "sms", "EUR", done.pk)] == (
        1,
        Decimal(2),
        Decimal("1.50"),
        Decimal("0.25"),
    )
    assert by_key[(p, feb1, "sms", "EUR", done.pk)] == (
        1,
        Decimal(3),
        Decimal("2.50"),
        Decimal("0.50"),
    )
    assert by_key[(p, feb1, "sms", "EUR", partial.pk)][:3] == (1, Decimal(1), Decimal("1.00"))
    # 18:14 UTC on 28 February is 23:59 there; an ORM record has no import.
    orm = (personas.a_other_partner.pk, datetime(2026, 2, 28).date(), "sms", "EUR", None)
    assert by_key[orm][0] == 1
    assert not any(key[4] == rejected.pk for key in by_key)
    assert days(personas.tenant_b) == set()


def test_changes_and_deletes_take_their_sums_off_and_empty_days_go(kathmandu) -> None:
    personas = kathmandu
    tenant = personas.tenant_a
    when = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with tenant_context(tenant):
        for i in range(4):
            record(personas.a_partner, f"r{i}", when + timedelta(minutes=i), gross=f"{i + 1}.00")
        record(personas.a_partner, "r9", when, product_code="video")
        assert days(tenant) == record_sums(tenant)
        assert UsageDay.objects.get(product_code="sms").record_count == 4

        UsageRecord.objects.filter(external_id__in=["r0", "r1"]).delete()
        UsageRecord.objects.filter(external_id="r2").update(
            gross_amount=Decimal("7.25"), event_time=when + timedelta(days=1)
        )
        assert days(tenant) == record_sums(tenant)
        sms = UsageDay.objects.filter(product_code="sms").order_by("day")
        assert [(d.day.day, d.record_count, d.gross_amount) for d in sms] == [
            (10, 1, Decimal("4.00")),
            (11, 1, Decimal("7.25")),
        ]

        UsageRecord.objects.filter(product_code="sms").delete()
        assert list(UsageDay.objects.values_list("product_code", flat=True)) == ["video"]


def test_a_new_time_zone_recomputes_that_tenant_days_only(kathmandu) -> None:
    personas = kathmandu
    a, b = personas.tenant_a, personas.tenant_b
    late_evening = datetime(2026, 4, 30, 20, 0, tzinfo=UTC)  # 1 May in Kathmandu
    with tenant_context(a):
        record(personas.a_partner, "a1", late_evening)
    with tenant_context(b):
        record(personas.b_partner, "b1", late_evening)
    b_days = days(b)
    assert {d[1].day for d in days(a)} == {1}

    # Changed as the platform admin does: no tenant is active.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', '', false)")
    a.timezone = "America/New_York"
    a.save()
    assert {(d[1].month, d[1].day) for d in days(a)} == {(4, 30)}
    assert days(a) == record_sums(a)
    assert days(b) == b_days
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] == ""


def test_days_are_under_row_level_security(kathmandu) -> None:
    personas = kathmandu
    with tenant_context(personas.tenant_a):
        record(personas.a_partner, "a1", datetime(2026, 5, 5, tzinfo=UTC))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE oid = 'settlements_usageday'::regclass"
        )
        assert cursor.fetchone() == (True, True)
    with tenant_context(personas.tenant_b), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM settlements_usageday")
        assert cursor.fetchone() == (0,)
        with pytest.raises(Exception, match="row-level security"), transaction.atomic():
            cursor.execute(
                "INSERT INTO settlements_usageday (tenant_id, partner_id, day, product_code,"
                " currency, record_count, quantity, gross_amount, tax_amount)"
                " VALUES (%s, %s, '2026-05-05', 'sms', 'EUR', 1, 1, 1, 0)",
                [personas.tenant_a.pk, personas.a_partner.pk],
            )


def test_the_migration_sums_usage_written_before_it(kathmandu) -> None:
    personas = kathmandu
    for tenant, partner in (
        (personas.tenant_a, personas.a_partner),
        (personas.tenant_b, personas.b_partner),
    ):
        with tenant_context(tenant):
            record(partner, "x1", datetime(2026, 6, 1, 18, 30, tzinfo=UTC))
            record(partner, "x2", datetime(2026, 6, 1, 18, 0, tzinfo=UTC), gross="3.00")
    expected = {t.pk: days(t) for t in (personas.tenant_a, personas.tenant_b)}
    for tenant in (personas.tenant_a, personas.tenant_b):
        with tenant_context(tenant):
            UsageDay.objects.all().delete()
    migration = importlib.import_module("settlements.migrations.0009_usage_days")
    migration.sum_existing_usage(None, SimpleNamespace(connection=connection))
    assert {t.pk: days(t) for t in (personas.tenant_a, personas.tenant_b)} == expected
    assert len(expected[personas.tenant_a.pk]) == 2  # 00:15 and 23:45 local: two days


rows = st.lists(
    st.tuples(
        st.sampled_from(["sms", "video"]),
        st.sampled_from(["EUR", "USD"]),
        st.integers(min_value=0, max_value=60 * 24 * 3 - 1),  # minutes into 3 UTC days
        st.decimals(min_value=-1000, max_value=1000, places=2),
        st.booleans(),  # removed again afterwards
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=rows,
    zone=st.sampled_from(["UTC", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"]),
)
def test_days_always_equal_the_sums_of_their_records(kathmandu, rows, zone) -> None:
    personas = kathmandu
    tenant = personas.tenant_a
    start = datetime(2026, 7, 1, tzinfo=UTC)
    with transaction.atomic():
        tenant.timezone = zone
        tenant.save()
        with tenant_context(tenant):
            UsageRecord.objects.bulk_create(
                UsageRecord(
                    tenant=tenant,
                    partner=personas.a_partner if i % 3 else personas.a_other_partner,
                    product_code=product,
                    event_time=start + timedelta(minutes=minute),
                    quantity=1,
                    gross_amount=gross,
                    tax_amount=0,
                    currency=currency,
                    external_id=f"h{i}",
                )
                for i, (product, currency, minute, gross, _) in enumerate(rows)
            )
            UsageRecord.objects.filter(
                external_id__in=[f"h{i}" for i, row in enumerate(rows) if row[4]]
            ).delete()
            assert days(tenant) == record_sums(tenant)
            assert sum(d[5] for d in days(tenant)) == sum(1 for row in rows if not row[4])
        transaction.set_rollback(True)
