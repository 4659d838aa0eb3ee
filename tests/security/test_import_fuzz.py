"""Hypothesis against the importers (usage CSV, KPI measurements CSV, FX rates CSV) and the plan
JSON validation: garbage bytes, wrong encodings (latin-1, UTF-16, BOM), huge fields, formula
strings, duplicate and missing columns or keys, NUL bytes. Whatever arrives: a clear
``ValidationError`` (or a rejected import) and no row written, never another exception.

tests/settlements/test_usage_properties.py fuzzes the usage cells; here the files' shape and
bytes. ``PARTNERHUB_FUZZ_EXAMPLES`` (default 1 for the API fuzz) scales these too.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpis.models import KpiMeasurement, MeasurementImport
from kpis.periods import tenant_today
from kpis.services.measurements import measurement_import_preview, measurement_import_run
from partnerhub.tenancy.context import tenant_context
from settlements.models import (
    FxRate,
    Product,
    RevenueSharePlan,
    RevenueSharePlanVersion,
    UsageImport,
    UsageRecord,
)
from settlements.services.fx import fx_rates_import_csv
from settlements.services.plans import plan_create
from settlements.services.usage_import import COLUMNS, usage_import_create, usage_import_run
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

EXAMPLES = max(20, int(os.environ.get("PARTNERHUB_FUZZ_EXAMPLES", "2")) * 10)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

NASTY = [
    "",
    " ",
    "=1+2",
    '=HYPERLINK("http://x")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\x00",
    "a\x00b",
    "\ufeff",
    "é",
    "\u202e",
    '"',
    "\r\n",
    "NaN",
    "Infinity",
    "1e999",
    "-0",
    "9" * 40,
    "x" * 200_000,  # past csv.field_size_limit
]
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "utf-16", "utf-16-le", "cp1252"]


def _cell(valid: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(valid), st.sampled_from(NASTY), st.text(max_size=8))


def csv_files(columns: tuple[str, ...] | list[str], valid: list[str]) -> st.SearchStrategy[bytes]:
    """CSV files around ``columns``: reordered, missing, duplicated or extra headers, nasty cells,
    any encoding; or plain garbage bytes."""
    header = st.one_of(
        st.permutations(list(columns)),
        st.lists(st.sampled_from([*columns, "extra", "", "=cmd"]), min_size=0, max_size=8),
    )

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        names = draw(header)
        rows = draw(
            st.lists(st.lists(_cell(valid), min_size=0, max_size=len(names) + 2), max_size=4)
        )
        text = "\r\n".join(
            ",".join('"' + c.replace('"', '""') + '"' if draw(st.booleans()) else c for c in row)
            for row in [list(names), *rows]
        )
        encoding = draw(st.sampled_from(ENCODINGS))
        return text.encode(encoding, errors="replace")

    return st.one_of(build(), st.binary(max_size=200))


def test_the_nasty_pool_holds_a_field_past_the_csv_limit() -> None:
    import csv

    assert max(len(v) for v in NASTY) > csv.field_size_limit()


# --- FX rates -----------------------------------------------------------------------------


@FUZZ
@given(data=csv_files(("date", "base", "quote", "rate"), ["2026-01-05", "EUR", "USD", "1.25"]))
def test_fx_csv_is_loaded_whole_or_refused_clearly(as_tenant_a: Any, data: bytes) -> None:
    before = FxRate.objects.count()
    try:
        with transaction.atomic():
            loaded = fx_rates_import_csv(stream=io.BytesIO(data))
    except ValidationError as exc:
        assert exc.messages and all(m.strip() for m in exc.messages)
        assert FxRate.objects.count() == before
    else:
        assert FxRate.objects.count() <= before + loaded


# --- KPI measurements ---------------------------------------------------------------------


@FUZZ
@given(data=csv_files(("partner", "kpi", "date", "value"), ["revenue", "csat", "2026-01-05", "4"]))
def test_kpi_csv_preview_and_run_are_all_or_nothing(personas: Any, data: bytes) -> None:
    with tenant_context(personas.tenant_a):
        before = (KpiMeasurement.objects.count(), MeasurementImport.objects.count())
        data = data.replace(b"PARTNER_ID", str(personas.a_partner.pk).encode())
        data = data.replace(b"2026-01-05", str(tenant_today()).encode())
        try:
            with transaction.atomic():
                upload = measurement_import_preview(
                    upload=SimpleUploadedFile("m.csv", data), user=None
                )
        except ValidationError as exc:
            assert exc.messages and all(m.strip() for m in exc.messages)
            assert (KpiMeasurement.objects.count(), MeasurementImport.objects.count()) == before
            return
        assert KpiMeasurement.objects.count() == before[0]
        if upload.errors:
            assert all(e["message"] for e in upload.errors)
            return
        try:
            with transaction.atomic():
                measurement_import_run(import_id=upload.pk)
        except ValidationError:
            assert KpiMeasurement.objects.count() == before[0]
        else:
            assert KpiMeasurement.objects.count() <= before[0] + upload.rows_total


# --- Usage --------------------------------------------------------------------------------


@FUZZ
@given(data=csv_files(COLUMNS, ["sms", "2026-01-05", "1", "1.00", "0", "EUR", "v", "PARTNER_ID"]))
def test_usage_csv_files_never_half_land(personas: Any, data: bytes) -> None:
    tenant = personas.tenant_a
    with tenant_context(tenant):
        Product.objects.get_or_create(tenant=tenant, code="sms", defaults={"name": "SMS"})
        before = UsageRecord.objects.count()
        data = data.replace(b"PARTNER_ID", str(personas.a_partner.pk).encode())
        imp = usage_import_create(file=SimpleUploadedFile("u.csv", data))
    usage_import_run(tenant=tenant, import_id=imp.pk)  # never raises
    with tenant_context(tenant):
        imp = UsageImport.objects.get(pk=imp.pk)
        added = UsageRecord.objects.count() - before
        assert imp.status in {"done", "rejected"}
        if imp.status == "rejected":
            assert added == 0 and imp.error.strip()
        else:
            assert added == imp.inserted
        UsageRecord.objects.all().delete()


# --- Plan JSON ----------------------------------------------------------------------------

PLAN = {
    "name": "Fuzz plan",
    "currency": "EUR",
    "direction": "payable",
    "basis": "gross",
    "fx": "period_end",
    "rules": [{"product": "*", "type": "percentage", "rate": "0.30"}],
}
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.sampled_from(NASTY[:-1]),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def plan_documents(draw: st.DrawFn) -> str | bytes:
    plan: dict[str, Any] = json.loads(json.dumps(PLAN))
    for _ in range(draw(st.integers(0, 3))):
        rules = plan.get("rules")
        rule = rules[0] if isinstance(rules, list) and rules else None
        target = draw(st.sampled_from([plan, *([rule] if isinstance(rule, dict) else [])]))
        key = draw(st.sampled_from([*target, "extra", "tiers", "up_to"]))
        if draw(st.booleans()):
            target[key] = draw(json_values)
        else:
            target.pop(key, None)
    text = json.dumps(plan, ensure_ascii=draw(st.booleans()))
    kind = draw(st.sampled_from(["plain", "duplicate", "nested", "truncated", "bytes", "garbage"]))
    if kind == "duplicate":  # the same key twice: the later one must not silently win
        text = text.replace('"name":', '"name": "first", "name":', 1)
    elif kind == "nested":
        text = "[" * 100_000 + "]" * 100_000
    elif kind == "truncated":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "bytes":
        return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    elif kind == "garbage":
        return draw(st.binary(max_size=64))
    return text


@FUZZ
@given(content=plan_documents())
def test_plan_content_is_saved_whole_or_refused_clearly(as_tenant_a: Any, content: Any) -> None:
    before = (RevenueSharePlan.objects.count(), RevenueSharePlanVersion.objects.count())
    try:
        with transaction.atomic():
            plan = plan_create(content=content)
    except ValidationError as exc:
        assert exc.message_dict and all(
            all(m.strip() for m in v) for v in exc.message_dict.values()
        )
        after = (RevenueSharePlan.objects.count(), RevenueSharePlanVersion.objects.count())
        assert after == before
    else:
        assert plan.versions.count() == 1
        plan.versions.all().delete()
        plan.delete()


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "a", "name": "b", "currency": "EUR", "direction": "payable", "basis": "gross",'
        ' "fx": "period_end", "rules": [{"product": "*", "type": "percentage", "rate": "0.3"}]}',
        "[" * 100_000,
        json.dumps({**PLAN, "name": "nul\x00name"}),
        json.dumps({**PLAN, "rules": [{"product": "\x00", "type": "percentage", "rate": "0.3"}]}),
        json.dumps({**PLAN, "name": "\ud800"}),
    ],
    ids=["duplicate-key", "deep-nesting", "nul-in-name", "nul-in-product", "lone-surrogate"],
)
def test_plan_regressions_are_refused_with_a_clear_error(as_tenant_a: Any, content: str) -> None:
    with pytest.raises(ValidationError) as caught:
        plan_create(content=content)
    assert caught.value.message_dict
    assert RevenueSharePlan.objects.count() == 0


def test_a_nul_byte_in_a_kpi_csv_or_bulk_row_is_named_not_a_500(personas: Any) -> None:
    # PostgreSQL text cannot hold NUL: the rows used to reach the INSERT and fail there.
    today = str(tenant_today())
    partner = str(personas.a_partner.pk)
    data = f"partner,kpi,date,value\n{partner},revenue,{today},1\x00\n".encode()
    with tenant_context(personas.tenant_a), pytest.raises(ValidationError, match="NUL"):
        measurement_import_preview(upload=SimpleUploadedFile("m.csv", data), user=None)
    client = bearer(personas.a_manager, personas.tenant_a)
    row = {"partner": partner, "kpi": "rev\x00enue", "date": today, "value": "1"}
    response = client.post(
        "/api/v1/kpis/measurements/bulk/", {"rows": [row]}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "NUL" in str(response.json()["error"])
    with tenant_context(personas.tenant_a):
        assert not KpiMeasurement.objects.exists()
        assert not MeasurementImport.objects.exists()
