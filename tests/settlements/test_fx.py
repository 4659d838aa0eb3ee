"""FX rates: validation, upsert, CSV, API and the rate selector (direct, inverse, identity)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partnerhub.tenancy.context import tenant_context
from settlements.selectors.usage import fx_rate_get
from settlements.services.fx import fx_rates_import_csv, fx_rates_upsert
from tests.conftest import bearer


def test_rate_selector_direct_inverse_identity(as_tenant_a) -> None:
    fx_rates_upsert(rows=[{"date": "2026-01-05", "base": "EUR", "quote": "USD", "rate": "1.25"}])
    day = date(2026, 1, 5)
    assert fx_rate_get(on=day, base="EUR", quote="USD") == Decimal("1.25")
    assert fx_rate_get(on=day, base="USD", quote="EUR") == Decimal("0.8")
    assert fx_rate_get(on=day, base="GBP", quote="GBP") == 1
    assert fx_rate_get(on=date(2026, 1, 6), base="EUR", quote="USD") is None


def test_upsert_replaces_the_days_rate(as_tenant_a) -> None:
    fx_rates_upsert(rows=[{"date": "2026-01-05", "base": "EUR", "quote": "USD", "rate": "1.1"}])
    fx_rates_upsert(rows=[{"date": "2026-01-05", "base": "EUR", "quote": "USD", "rate": "1.2"}])
    assert fx_rate_get(on=date(2026, 1, 5), base="EUR", quote="USD") == Decimal("1.2")


@pytest.mark.parametrize(
    ("row", "key"),
    [
        ({"date": "2026-02-30", "base": "EUR", "quote": "USD", "rate": "1"}, "row 1: date"),
        ({"date": "2026-01-01", "base": "EUX", "quote": "USD", "rate": "1"}, "row 1: base"),
        ({"date": "2026-01-01", "base": "EUR", "quote": "USD", "rate": "0"}, "row 1: rate"),
        ({"date": "2026-01-01", "base": "EUR", "quote": "USD", "rate": "-1"}, "row 1: rate"),
        ({"date": "2026-01-01", "base": "EUR", "quote": "USD", "rate": "abc"}, "row 1: rate"),
        ({"date": "2026-01-01", "base": "EUR", "quote": "USD", "rate": 1.1}, "row 1: rate"),
        ({"date": "2026-01-01", "base": "EUR", "quote": "EUR", "rate": "1"}, "row 1: quote"),
    ],
)
def test_bad_rates_are_refused_naming_row_and_column(as_tenant_a, row, key) -> None:
    with pytest.raises(ValidationError) as exc:
        fx_rates_upsert(rows=[row])
    assert key in exc.value.message_dict


def test_csv_load(as_tenant_a) -> None:
    data = b"date,base,quote,rate\n2026-01-05,EUR,GBP,0.85\n2026-01-06,EUR,GBP,0.86\n"
    assert fx_rates_import_csv(stream=io.BytesIO(data)) == 2
    with pytest.raises(ValidationError, match="Missing column"):
        fx_rates_import_csv(stream=io.BytesIO(b"day,rate\n"))
    with pytest.raises(ValidationError, match="not a CSV"):
        fx_rates_import_csv(stream=io.BytesIO(b"\xff\xfe\x00\x01"))


def test_api_create_bulk_csv_and_isolation(personas) -> None:
    a = bearer(personas.a_finance, personas.tenant_a)
    url = reverse("api:settlements-fxrate-list")
    created = a.post(
        url,
        {"date": "2026-01-05", "base": "EUR", "quote": "USD", "rate": "1.1"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    bulk = a.post(
        reverse("api:settlements-fxrate-bulk"),
        {"rates": [{"date": "2026-01-06", "base": "EUR", "quote": "USD", "rate": "1.2"}]},
        content_type="application/json",
    )
    assert bulk.json() == {"saved": 1}
    bad = a.post(
        reverse("api:settlements-fxrate-bulk"),
        {"rates": [{"date": "2026-01-06", "base": "EUR", "quote": "usd", "rate": "1.2"}]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "row 1: quote" in bad.json()["error"]["details"]
    csv_response = a.post(
        reverse("api:settlements-fxrate-upload-csv"),
        {"file": SimpleUploadedFile("fx.csv", b"date,base,quote,rate\n2026-01-07,EUR,USD,1.3\n")},
    )
    assert csv_response.json() == {"saved": 1}
    b = bearer(personas.b_manager, personas.tenant_b)
    assert b.get(url).json()["results"] == []
    with tenant_context(personas.tenant_b):
        assert fx_rate_get(on=date(2026, 1, 5), base="EUR", quote="USD") is None
