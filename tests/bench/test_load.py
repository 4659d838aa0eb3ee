"""`make load`: the bare comparison endpoint returns the partner list page's rows and exists
only under the load settings; the report turns locust's figures into targets met or not."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from bench.load.run import BARE, LIST_PAGE, report
from partnerhub.tenancy.context import tenant_context
from tests.conftest import login
from tests.partners.factories import PartnerFactory

QUERIES = [
    {},
    {"page": "2"},
    {"ordering": "-created"},
    {"status": "active", "ordering": "country"},
    {"search": "load"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
def test_bare_endpoint_returns_the_rows_of_the_list_page(personas, settings, query):
    settings.ROOT_URLCONF = "bench.load.urls"
    with tenant_context(personas.tenant_a):
        for i in range(30):
            PartnerFactory(legal_name=f"Load {i:02d}", status="active" if i % 2 else "applied")
    client = login(personas.a_manager)
    page = client.get("/partners/", query)
    bare = client.get("/bench/partners/", query)
    assert page.status_code == bare.status_code == 200
    rows = bare.json()["results"]
    assert [r["pk"] for r in rows] == [p.pk for p in page.context["object_list"]]
    assert rows and all(r["legal_name"] != personas.b_partner.legal_name for r in rows)


def test_bare_endpoint_is_not_in_the_production_urls():
    with pytest.raises(Resolver404):
        resolve("/bench/partners/", urlconf="partnerhub.urls")
    assert resolve("/bench/partners/", urlconf="bench.load.urls").url_name == "bench-partner-rows"


def _stats(path: Path, rows: list[tuple[str, int, int, int, int, int]]) -> None:
    fields = ["Type", "Name", "Request Count", "Failure Count", "Average Response Time",
              "Max Response Time", "50%", "95%", "99%"]  # fmt: skip
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        for name, n, failures, p50, p95, p99 in rows:
            writer.writerow(["GET", name, n, failures, p50, p99, p50, p95, p99])


def test_report_groups_requests_and_judges_the_targets(tmp_path):
    prefix = tmp_path / "locust"
    _stats(
        Path(f"{prefix}_stats.csv"),
        [
            (LIST_PAGE, 100, 0, 60, 120, 200),
            (BARE, 100, 0, 40, 70, 90),
            ("page partner detail", 50, 0, 80, 300, 400),
            ("api GET partners", 60, 0, 30, 90, 100),
            ("api POST usage bulk", 20, 1, 200, 900, 990),
            ("Aggregated", 330, 1, 50, 200, 400),
        ],
    )
    args = argparse.Namespace(users=20, duration=60, warmup=15, wait_min=0.5, wait_max=2,
                              partners=10, rows=100, workers=2, threads=2, bulk_rows=5)  # fmt: skip
    result = report(prefix, args, 60.0)
    assert result["list_vs_values"]["ratio_p50"] == 1.5
    assert result["requests"]["api POST usage bulk"]["kind"] == "api write"
    assert result["requests"][LIST_PAGE]["rps"] == round(100 / 60, 2)
    assert result["errors"] == 1
    assert result["config"]["warmup_s"] == 15
    targets = result["targets"]
    assert targets["zero_errors"] is False
    # The slow write does not count against the read target; the slow page does.
    assert targets["over_target"] == ["page partner detail"]
    assert targets["list_within_2x_values"] is True
