"""Measurements: the all-or-nothing bulk ingest, replacement with audit, list, CSV uploads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kpis.models import KpiMeasurement, MeasurementImport
from kpis.periods import tenant_today
from partnerhub.audit.models import AuditEntry
from partnerhub.tenancy.context import tenant_context
from tests.conftest import bearer, login

pytestmark = pytest.mark.django_db

BULK = "/api/v1/kpis/measurements/bulk/"


def post(client, rows):
    return client.post(BULK, {"rows": rows}, content_type="application/json")


def test_bad_rows_are_all_named_and_nothing_is_written(personas):
    with tenant_context(personas.tenant_a):  # the tenant's day: row 6 must lie after it
        today = tenant_today()
    a, b = personas.a_partner.pk, personas.b_partner.pk
    rows = [
        {"partner": str(a), "kpi": "revenue", "date": str(today), "value": "10.5"},  # 1 ok
        {"partner": "Nobody Ltd", "kpi": "revenue", "date": str(today), "value": "1"},  # 2
        {"partner": str(b), "kpi": "revenue", "date": str(today), "value": "1"},  # 3 tenant B
        {"partner": str(a), "kpi": "nope", "date": str(today), "value": "1"},  # 4
        {"partner": str(a), "kpi": "csat", "date": str(today), "value": "abc"},  # 5
        {"partner": str(a), "kpi": "csat", "date": str(today + timedelta(days=1)), "value": "4"},
        {"partner": str(a), "kpi": "churn", "date": "1999-12-31", "value": "1"},  # 7
        {"partner": str(a), "kpi": "churn", "date": "31/01/2026", "value": "1"},  # 8
        {"partner": str(a), "kpi": "revenue", "date": str(today), "value": "11"},  # 9 dup of 1
        {"partner": str(a), "kpi": "arpu", "date": str(today), "value": "3"},  # 10 ratio
        {"partner": str(a), "kpi": "complaints", "date": str(today), "value": "NaN"},  # 11
    ]
    response = post(bearer(personas.a_manager, personas.tenant_a), rows)
    assert response.status_code == 400
    error = response.json()["error"]
    found = {(e["row"], e["column"]) for e in error["details"]["rows"]}
    assert found == {
        (2, "partner"),
        (3, "partner"),
        (4, "kpi"),
        (5, "value"),
        (6, "date"),
        (7, "date"),
        (8, "date"),
        (9, "date"),
        (10, "kpi"),
        (11, "value"),
    }
    messages = " ".join(e["message"] for e in error["details"]["rows"])
    assert "Unknown partner 'Nobody Ltd'" in messages and "Duplicate of row 1" in messages
    with tenant_context(personas.tenant_a):
        assert not KpiMeasurement.objects.exists()


def test_ingest_replaces_and_audits_the_old_value(personas):
    day = str(tenant_today() - timedelta(days=3))
    client = bearer(personas.a_manager, personas.tenant_a)
    rows = [
        {"partner": str(personas.a_partner.pk), "kpi": "revenue", "date": day, "value": "100"},
        {"partner": "acme content ltd", "kpi": "csat", "date": day, "value": 4.25},
    ]
    response = post(client, rows)
    assert response.status_code == 200, response.json()
    assert response.json() == {"rows": 2, "created": 2, "replaced": 0}
    rows[0]["value"] = "120.5"
    response = post(client, rows)
    assert response.json() == {"rows": 2, "created": 0, "replaced": 2}
    with tenant_context(personas.tenant_a):
        revenue = KpiMeasurement.objects.get(kpi__key="revenue")
        assert revenue.value == Decimal("120.5") and revenue.submitted_by == personas.a_manager
        trail = AuditEntry.objects.filter(object_pk=str(revenue.pk), action=1)
        assert [e.changes["value"] for e in trail] == [["100.000000", "120.500000"]]
        assert trail[0].actor_id == personas.a_manager.pk
        # An unchanged resubmission (csat 4.25) leaves no update in the trail.
        csat = KpiMeasurement.objects.get(kpi__key="csat")
        assert not AuditEntry.objects.filter(object_pk=str(csat.pk), action=1).exists()


def test_ten_thousand_rows_in_constant_queries(personas, django_assert_max_num_queries):
    start = tenant_today() - timedelta(days=999)
    keys = ["revenue", "complaints", "csat", "churn", "activations"]
    rows = [
        {"partner": str(p.pk), "kpi": k, "date": str(start + timedelta(days=d)), "value": str(d)}
        for p in (personas.a_partner, personas.a_other_partner)
        for k in keys
        for d in range(1000)
    ]
    assert len(rows) == 10_000
    client = bearer(personas.a_manager, personas.tenant_a)
    with django_assert_max_num_queries(30):
        response = post(client, rows)
    assert response.json()["created"] == 10_000
    too_many = post(client, [*rows, rows[0]])
    assert too_many.status_code == 400


def test_list_filters_isolation_and_roles(personas):
    day = str(tenant_today() - timedelta(days=1))
    post(
        bearer(personas.a_manager, personas.tenant_a),
        [
            {"partner": str(personas.a_partner.pk), "kpi": "revenue", "date": day, "value": "1"},
            {"partner": str(personas.a_other_partner.pk), "kpi": "csat", "date": day, "value": "4"},
        ],
    )
    post(
        bearer(personas.b_manager, personas.tenant_b),
        [
            {"partner": str(personas.b_partner.pk), "kpi": "revenue", "date": day, "value": "9"},
        ],
    )
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    everything = viewer.get("/api/v1/kpis/measurements/").json()
    assert everything["count"] == 2
    only = viewer.get("/api/v1/kpis/measurements/", {"kpi_key": "revenue", "date_from": day})
    assert [m["partner"] for m in only.json()["results"]] == [personas.a_partner.pk]
    assert (
        viewer.get("/api/v1/kpis/measurements/", {"partner": personas.b_partner.pk}).json()["count"]
        == 0
    )
    refused = post(viewer, [{"partner": "1", "kpi": "revenue", "date": day, "value": "1"}])
    assert refused.status_code == 403


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("values.csv", text.encode(), content_type="text/csv")


def test_csv_upload_preview_commit_and_progress(
    personas, settings, django_capture_on_commit_callbacks, tmp_path, monkeypatch
):
    from kpis.tasks import kpi_measurements_import

    settings.MEDIA_ROOT = tmp_path
    # Run the task in-process, as a worker would after the commit.
    monkeypatch.setattr(
        kpi_measurements_import,
        "apply_async",
        lambda args, **_: kpi_measurements_import.apply(args=args),
    )
    day = tenant_today() - timedelta(days=2)
    client = login(personas.a_manager)
    bad = "partner,kpi,date,value\nAcme Content Ltd,revenue,{d},1\nGhost,revenue,{d},x\n"
    response = client.post("/kpis/measurements/upload/", {"file": csv_file(bad.format(d=day))})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.context["bad_rows"] == 1
    assert "Unknown partner" in page.content.decode()
    refused = client.post(response["Location"])
    assert refused.status_code == 302
    with tenant_context(personas.tenant_a):
        assert MeasurementImport.objects.get().status == "previewed"

    good = "Partner,KPI,Date,Value\n" + "".join(
        f"{personas.a_partner.pk},revenue,{day - timedelta(days=i)},{i}\n" for i in range(150)
    )
    response = client.post("/kpis/measurements/upload/", {"file": csv_file(good)})
    detail = response["Location"]
    preview = client.get(detail)
    assert len(preview.context["preview"]) == 100 and preview.context["bad_rows"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(detail)
    progress = client.get(detail + "progress/")
    assert 'data-status="done"' in progress.content.decode()
    with tenant_context(personas.tenant_a):
        assert KpiMeasurement.objects.filter(origin="csv").count() == 150
        assert (
            MeasurementImport.objects.get(pk=int(detail.rstrip("/").split("/")[-1])).rows_done
            == 150
        )
    assert login(personas.a_viewer).get("/kpis/measurements/upload/").status_code == 403
    missing = client.post("/kpis/measurements/upload/", {"file": csv_file("partner,kpi\n1,x\n")})
    assert missing.status_code == 400 and "Missing column" in missing.content.decode()
