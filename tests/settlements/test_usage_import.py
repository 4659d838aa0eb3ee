"""Usage ingestion: COPY into staging, set-based validation, partitioned insert."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.tenancy.context import tenant_context
from settlements.models import Product, UsageImport, UsageRecord, UsageRejectedRow
from settlements.services.usage_import import (
    COLUMNS,
    _drop_staging,
    _validate,
    _validate_fast,
    stage_rows,
    usage_bulk_ingest,
    usage_csv_preview,
    usage_import_create,
    usage_import_run,
)

HEADER = "partner,product_code,event_time,quantity,gross_amount,tax_amount,currency,external_id\n"


@pytest.fixture
def products(personas):
    with tenant_context(personas.tenant_a):
        Product.objects.create(tenant=personas.tenant_a, code="sms", name="SMS")
        Product.objects.create(tenant=personas.tenant_a, code="video", name="Video")
    with tenant_context(personas.tenant_b):
        Product.objects.create(tenant=personas.tenant_b, code="sms", name="SMS")


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def run_csv(personas, data: bytes, policy="all_or_nothing", **kwargs) -> UsageImport:
    with tenant_context(personas.tenant_a):
        imp = usage_import_create(file=SimpleUploadedFile("u.csv", data), policy=policy)
    usage_import_run(tenant=personas.tenant_a, import_id=imp.pk, **kwargs)
    with tenant_context(personas.tenant_a):
        return UsageImport.objects.get(pk=imp.pk)


def rejections(personas, imp) -> list[tuple[int, str, str]]:
    with tenant_context(personas.tenant_a):
        return list(
            UsageRejectedRow.objects.filter(usage_import=imp)
            .order_by("row_number", "column")
            .values_list("row_number", "column", "reason")
        )


def test_valid_file_lands_in_monthly_partitions(personas, products) -> None:
    p = personas.a_partner.pk
    data = csv_of(
        f"{p},sms,2026-01-31T23:00:00Z,10,12.50,2.00,EUR,a1",
        f"{p},video,2026-02-01T00:00:00+00:00,1,100,0,JPY,a2",
        f"{p},sms,2026-03-05,3,-1.234,,BHD,a3",
    )
    imp = run_csv(personas, data)
    assert (imp.status, imp.inserted, imp.duplicates, imp.rejected) == ("done", 3, 0, 0)
    assert imp.rows_processed == imp.rows_total == 3
    with tenant_context(personas.tenant_a):
        rec = UsageRecord.objects.get(external_id="a3")
        assert rec.gross_amount == Decimal("-1.234") and rec.tax_amount == 0
        assert UsageRecord.objects.get(external_id="a1").partner_id == p
    with tenant_context(personas.tenant_a), connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM settlements_usagerecord GROUP BY 1"
        )
        parts = dict(cursor.fetchall())
    assert set(parts) == {
        "settlements_usagerecord_y2026m01",
        "settlements_usagerecord_y2026m02",
        "settlements_usagerecord_y2026m03",
    }


def test_every_rejection_names_row_and_column(personas, products) -> None:
    p = personas.a_partner.pk
    b = personas.b_partner.pk
    data = csv_of(
        f"{p},sms,2026-01-10T10:00:00Z,1,1.00,0,EUR,ok1",
        f"{b},sms,2026-01-10T10:00:00Z,1,1.00,0,EUR,r2",
        f"{p},nope,2026-01-10T10:00:00Z,1,1.00,0,EUR,r3",
        f"{p},sms,2026-13-10,1,1.00,0,EUR,r4",
        f"{p},sms,2026-01-10,abc,1.00,0,EUR,r5",
        f"{p},sms,2026-01-10,1,1.00,0,EUX,r6",
        f"{p},sms,2026-01-10,1,1.5,0,JPY,r7",
        f"{p},sms,2026-01-10,1,1.00,0,EUR,",
    )
    imp = run_csv(personas, data)
    assert imp.status == "rejected" and imp.inserted == 0 and imp.rejected == 7
    found = {(r, c) for r, c, _ in rejections(personas, imp)}
    assert found == {
        (2, "partner"),
        (3, "product_code"),
        (4, "event_time"),
        (5, "quantity"),
        (6, "currency"),
        (7, "gross_amount"),
        (8, "external_id"),
    }
    with tenant_context(personas.tenant_a):
        assert not UsageRecord.objects.exists()


def test_partial_policy_lands_valid_rows_and_duplicates_are_stored_once(personas, products) -> None:
    p = personas.a_partner.pk
    data = csv_of(
        f"{p},sms,2026-01-10T10:00:00Z,1,1.00,0,EUR,d1",
        f"{p},sms,2026-01-10T10:00:00Z,1,1.00,0,EUR,d1",
        f"{p},sms,bad,1,1.00,0,EUR,d2",
    )
    imp = run_csv(personas, data, policy="partial")
    assert (imp.status, imp.inserted, imp.duplicates, imp.rejected) == ("done", 1, 1, 1)
    again = run_csv(personas, data, policy="partial")
    assert (again.inserted, again.duplicates, again.rejected) == (0, 2, 1)
    with tenant_context(personas.tenant_a):
        assert UsageRecord.objects.filter(external_id="d1").count() == 1


def test_multi_chunk_multi_batch_file_imports_completely(personas, products) -> None:
    p = personas.a_partner.pk
    rows = [f"{p},sms,2026-0{1 + i % 3}-10T10:00:00Z,{i},{i}.25,0,EUR,m{i}" for i in range(500)]
    imp = run_csv(personas, csv_of(*rows), chunk_size=97, batch_size=60)
    assert (imp.status, imp.inserted, imp.rows_processed) == ("done", 500, 500)
    with tenant_context(personas.tenant_a):
        assert UsageRecord.objects.count() == 500


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a CSV"),
        (b"partner,product_code\n1,sms\n", "Missing column(s): event_time"),
        (HEADER.encode() + b'1,sms,"unterminated\n', "not valid CSV"),
        (HEADER.encode() + b"1,2,3\n", "Row 1"),
        (HEADER.encode() + b"\xff\xfe,a,b,c,d,e,f,g\n", "not UTF-8"),
    ],
)
def test_unusable_files_are_rejected_with_a_clear_error(personas, products, data, message) -> None:
    imp = run_csv(personas, data)
    assert imp.status == "rejected"
    assert message in imp.error
    with tenant_context(personas.tenant_a):
        assert not UsageRecord.objects.exists()


def test_bulk_rows_share_the_sql_path(personas, products, as_tenant_a) -> None:
    p = personas.a_partner.pk
    rows = [
        {
            "partner": p,
            "product_code": "sms",
            "event_time": "2026-01-01T00:00:00Z",
            "quantity": "1",
            "gross_amount": "2.50",
            "tax_amount": "0",
            "currency": "EUR",
            "external_id": "j1",
        },
        {
            "partner": personas.b_partner.pk,
            "product_code": "sms",
            "event_time": "2026-01-01T00:00:00Z",
            "quantity": 1,
            "gross_amount": "2.50",
            "currency": "EUR",
            "external_id": "j2",
        },
    ]
    imp, errors = usage_bulk_ingest(rows=rows, policy="partial")
    assert (imp.inserted, imp.rejected) == (1, 1)
    assert [(e.row_number, e.column) for e in errors] == [(2, "partner")]


def test_preview_writes_nothing(personas, products, as_tenant_a) -> None:
    p = personas.a_partner.pk
    data = csv_of(f"{p},sms,2026-01-10,1,1.00,0,EUR,x1", f"{p},sms,2026-01-10,1,1.00,0,ZZZ,x2")
    preview = usage_csv_preview(stream=io.BytesIO(data))
    assert preview.rows_total == 2 and preview.rejected_rows == 1
    assert preview.rows[0]["external_id"] == "x1"
    assert [(e.row_number, e.column) for e in preview.errors] == [(2, "currency")]
    assert not UsageRecord.objects.exists()


def test_resent_file_counts_duplicates_and_stores_nothing_twice(personas, products) -> None:
    p = personas.a_partner.pk
    data = csv_of(*(f"{p},sms,2026-01-10T10:00:00Z,1,1.00,0,EUR,s{i}" for i in range(5)))
    first = run_csv(personas, data)
    assert (first.status, first.inserted, first.duplicates) == ("done", 5, 0)
    # The key table refuses the batch's plain insert; the general path sorts out old from new.
    mixed = data + f"{p},sms,2026-01-11T10:00:00Z,1,1.00,0,EUR,s9\n".encode()
    again = run_csv(personas, mixed)
    assert (again.status, again.inserted, again.duplicates) == ("done", 1, 5)
    with tenant_context(personas.tenant_a):
        assert UsageRecord.objects.count() == 6


near_valid = st.sampled_from(
    [
        "",
        "1",
        "+1",
        "-1.5",
        "1.",
        ".5",
        "-",
        ".",
        "1.2.3",
        "1e3",
        "NaN",
        "Infinity",
        " 1",
        "1_000",
        "0x1F",
        "\u0661",  # ARABIC-INDIC DIGIT ONE
        "0.0000001",
        "1.1234560",
        "1.1234567",
        "0000000000000001",
        "123456789012345",
        "99999999999999.5",
        "1.005",
        "10.50",
        "10.5",
        "100.00",
        "2026-01-05",
        "2026-02-30",
        "2026-01-05 10:00",
        "2026-01-05T10:00:00+14:00",
        "today",
        "20260105",
        "EUR",
        "JPY",
        "BHD",
        "XXX",
        "eur",
        "sms",
        "video",
        "nope",
        "x" * 101,
        "x" * 100,
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.lists(near_valid, min_size=7, max_size=7), min_size=1, max_size=5))
def test_quick_check_agrees_with_the_full_validation(personas, products, rows) -> None:
    """The counting scan accepts exactly the files in which the full validation finds nothing,
    and makes the partitions of every month the rows fall in (from the first to the last)."""
    tenant = personas.tenant_a
    partner = str(personas.a_partner.pk)
    staged = [dict(zip(COLUMNS, [partner, *row], strict=True)) for row in rows]
    with tenant_context(tenant), transaction.atomic():
        stage_rows(staged)
        full = _validate(tenant)
        quick = _validate_fast(tenant)
        transaction.set_rollback(True)
    _drop_staging()
    if full.bad:
        assert quick is None
    else:
        assert quick is not None and set(full.months) <= set(quick.months)
        assert quick.months[:1] == full.months[:1] and quick.months[-1:] == full.months[-1:]
