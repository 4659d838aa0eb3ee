"""Property tests: whatever bytes arrive, an import never half-lands and never raises."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.tenancy.context import tenant_context
from settlements.models import Product, UsageImport, UsageRecord
from settlements.services.usage_import import COLUMNS, usage_import_create, usage_import_run

cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "1", "-1.5", "1e3", "NaN", "2026-01-05", "EUR", "JPY", "sms", "0.001"]),
)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.lists(cell, min_size=8, max_size=8), min_size=1, max_size=6),
    garbage=st.one_of(st.none(), st.binary(max_size=64)),
    valid_first=st.booleans(),
)
def test_garbage_never_half_lands(personas, rows, garbage, valid_first) -> None:
    tenant = personas.tenant_a
    with tenant_context(tenant):
        Product.objects.get_or_create(tenant=tenant, code="sms", defaults={"name": "SMS"})
        before = UsageRecord.objects.count()
    if valid_first:
        rows = [
            [str(personas.a_partner.pk), "sms", "2026-01-05", "1", "1.00", "0", "EUR", "v"],
            *rows,
        ]
    try:
        data = garbage if garbage is not None else _csv(rows)
    except UnicodeEncodeError:
        return
    with tenant_context(tenant):
        imp = usage_import_create(file=SimpleUploadedFile("g.csv", data))
    usage_import_run(tenant=tenant, import_id=imp.pk)  # never raises
    with tenant_context(tenant):
        imp = UsageImport.objects.get(pk=imp.pk)
        added = UsageRecord.objects.count() - before
        assert imp.status in {"done", "rejected"}
        if imp.status == "rejected":
            assert added == 0
            assert imp.rejected_rows.exists()
        else:
            assert imp.rejected == 0 and added == imp.inserted
        UsageRecord.objects.all().delete()
