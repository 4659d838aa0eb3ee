"""Usage API: imports (202 + progress), bulk JSON, list filters, isolation, query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partnerhub.tenancy.context import tenant_context
from settlements.models import Product, UsageImport, UsageRecord
from settlements.services.usage_import import usage_bulk_ingest
from tests.conftest import bearer, login

HEADER = "partner,product_code,event_time,quantity,gross_amount,tax_amount,currency,external_id\n"


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch) -> None:
    """The import task runs in-process when enqueued (no broker in unit tests)."""
    from settlements.tasks import usage_import_process

    monkeypatch.setattr(
        usage_import_process,
        "apply_async",
        lambda args, **_: usage_import_process.apply(args=args),
    )


@pytest.fixture
def products(personas):
    for tenant in (personas.tenant_a, personas.tenant_b):
        with tenant_context(tenant):
            Product.objects.create(tenant=tenant, code="sms", name="SMS")


def row(partner: int, ext: str, **over) -> dict:
    data = {
        "partner": partner,
        "product_code": "sms",
        "event_time": "2026-01-05T10:00:00Z",
        "quantity": "1",
        "gross_amount": "2.50",
        "tax_amount": "0.40",
        "currency": "EUR",
        "external_id": ext,
    }
    data.update(over)
    return data


def test_csv_upload_answers_202_and_the_task_runs_after_commit(
    personas, products, django_capture_on_commit_callbacks
) -> None:
    client = bearer(personas.a_finance, personas.tenant_a)
    data = f"{HEADER}{personas.a_partner.pk},sms,2026-01-05T10:00:00Z,1,2.50,0,EUR,c1\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api:settlements-usage-import-list"),
            {"file": SimpleUploadedFile("u.csv", data, content_type="text/csv")},
        )
    assert response.status_code == 202, response.content
    pk = response.json()["id"]
    detail = client.get(reverse("api:settlements-usage-import-detail", args=[pk])).json()
    assert (detail["status"], detail["inserted"], detail["rows_processed"]) == ("done", 1, 1)


def test_rejected_rows_endpoint_names_row_and_column(
    personas, products, django_capture_on_commit_callbacks
) -> None:
    client = bearer(personas.a_finance, personas.tenant_a)
    data = f"{HEADER}{personas.b_partner.pk},sms,2026-01-05,1,2.50,0,EUR,c1\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        pk = client.post(
            reverse("api:settlements-usage-import-list"),
            {"file": SimpleUploadedFile("u.csv", data), "policy": "partial"},
        ).json()["id"]
    rows = client.get(reverse("api:settlements-usage-import-rejected-rows", args=[pk])).json()
    items = rows["results"] if isinstance(rows, dict) else rows
    assert [(r["row_number"], r["column"]) for r in items] == [(1, "partner")]
    assert "unknown partner" in items[0]["reason"]


def test_bulk_inserts_and_reports_duplicates(personas, products) -> None:
    client = bearer(personas.a_finance, personas.tenant_a)
    url = reverse("api:settlements-usage-bulk")
    body = {"rows": [row(personas.a_partner.pk, "b1"), row(personas.a_partner.pk, "b2")]}
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["usage_import"]["inserted"] == 2
    again = client.post(url, body, content_type="application/json").json()
    assert (again["usage_import"]["inserted"], again["usage_import"]["duplicates"]) == (0, 2)


def test_bulk_all_or_nothing_is_400_naming_row_and_column(personas, products) -> None:
    client = bearer(personas.a_finance, personas.tenant_a)
    body = {
        "rows": [
            row(personas.a_partner.pk, "ok"),
            row(personas.b_partner.pk, "other-tenant"),
            row(personas.a_partner.pk, "yen", currency="JPY", gross_amount="1.5"),
        ]
    }
    response = client.post(
        reverse("api:settlements-usage-bulk"), body, content_type="application/json"
    )
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    # 1.5 JPY: gross refused; the tax 0.40 has decimals JPY does not have either.
    assert set(details) == {"rows[2].partner", "rows[3].gross_amount", "rows[3].tax_amount"}
    with tenant_context(personas.tenant_a):
        assert not UsageRecord.objects.exists()


def test_bulk_refuses_more_than_10000_rows(personas, products) -> None:
    client = bearer(personas.a_finance, personas.tenant_a)
    body = {"rows": [row(personas.a_partner.pk, f"x{i}") for i in range(10_001)]}
    response = client.post(
        reverse("api:settlements-usage-bulk"), body, content_type="application/json"
    )
    assert response.status_code == 400


def test_viewer_reads_but_cannot_import(personas, products) -> None:
    client = bearer(personas.a_viewer, personas.tenant_a)
    assert client.get(reverse("api:settlements-usage-list")).status_code == 200
    body = {"rows": [row(personas.a_partner.pk, "v1")]}
    assert (
        client.post(
            reverse("api:settlements-usage-bulk"), body, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("api:settlements-product-list"), {"code": "x", "name": "X"}).status_code
        == 403
    )


def test_partner_user_has_no_access_to_usage(personas, products) -> None:
    client = bearer(personas.a_partner_user, personas.tenant_a)
    assert client.get(reverse("api:settlements-usage-list")).status_code == 403


def test_usage_of_tenant_b_is_invisible_and_filters_work(personas, products) -> None:
    with tenant_context(personas.tenant_b):
        usage_bulk_ingest(rows=[row(personas.b_partner.pk, "B1")])
    with tenant_context(personas.tenant_a):
        usage_bulk_ingest(
            rows=[
                row(personas.a_partner.pk, "A1"),
                row(personas.a_other_partner.pk, "A2", currency="USD"),
            ]
        )
        b_import = None
    with tenant_context(personas.tenant_b):
        b_import = UsageImport.objects.get()
    client = bearer(personas.a_manager, personas.tenant_a)
    listed = client.get(reverse("api:settlements-usage-list")).json()["results"]
    assert sorted(r["external_id"] for r in listed) == ["A1", "A2"]
    usd = client.get(reverse("api:settlements-usage-list"), {"currency": "USD"}).json()["results"]
    assert [r["external_id"] for r in usd] == ["A2"]
    assert (
        client.get(reverse("api:settlements-usage-import-detail", args=[b_import.pk])).status_code
        == 404
    )


def test_list_endpoints_run_a_constant_number_of_queries(
    personas, products, django_assert_max_num_queries
) -> None:
    client = bearer(personas.a_manager, personas.tenant_a)
    urls = [
        reverse("api:settlements-usage-list"),
        reverse("api:settlements-usage-import-list"),
        reverse("api:settlements-product-list"),
        reverse("api:settlements-fxrate-list"),
    ]
    client.get(urls[0])  # the first request also records the token's use
    counts = {}
    for size in (1, 30):
        with tenant_context(personas.tenant_a):
            usage_bulk_ingest(rows=[row(personas.a_partner.pk, f"{size}-{i}") for i in range(size)])
            for i in range(size):
                Product.objects.get_or_create(
                    tenant=personas.tenant_a, code=f"p{size}-{i}", defaults={"name": "P"}
                )
        for url in urls:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(ctx.captured_queries))
    for url, (small, large) in counts.items():
        assert small == large, (url, small, large)
    with django_assert_max_num_queries(12):
        client.get(urls[0])


def test_usage_pages_render(personas, products) -> None:
    client = login(personas.a_finance)
    for name in ("usage-import-list", "usage-upload", "product-list", "fx-rate-list"):
        assert client.get(reverse(f"settlements:{name}")).status_code == 200


def test_bulk_cells_must_be_text_or_numbers(personas, products) -> None:
    client = bearer(personas.a_finance, personas.tenant_a)
    body = {
        "rows": [
            row(personas.a_partner.pk, "n1", quantity=[1]),
            row(personas.a_partner.pk, "n2", external_id="bad\x00id"),
        ]
    }
    response = client.post(
        reverse("api:settlements-usage-bulk"), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"rows[1].quantity", "rows[2].external_id"}
