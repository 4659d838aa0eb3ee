"""Scorecards: SQL aggregation, attainment and RAG, trend, weighted score, API, portfolio."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from kpis.models import KpiDefinition
from kpis.periods import Period, tenant_today
from kpis.selectors.scorecards import kpi_scorecard
from partnerhub.tenancy.context import tenant_context
from tests.conftest import bearer, login
from tests.kpis.helpers import put, target
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def last_month() -> Period:
    return Period.containing(tenant_today()).previous()


def test_scorecard_aggregates_judges_and_scores(personas):
    period = last_month()
    before = period.previous()
    with tenant_context(personas.tenant_a):
        p = personas.a_partner
        put(p, "revenue", period.start, ["100", "200", "300"])  # sum 600
        put(p, "revenue", before.start, ["100", "100"])  # previous 200
        put(p, "active_subscribers", period.start, ["1000", "2000", "3000"])  # last 3000
        put(p, "complaints", period.start, ["3", "3", "6"])  # sum 12 -> 4 per 1,000
        put(p, "csat", period.start, ["4", "5"])  # mean 4.5
        put(p, "revenue", period.end, ["999999"]) if period.end <= tenant_today() else None
        target("revenue", "500", before.start, weight="2", partner=p)  # 120 % green
        target("complaints_per_1000", "5", before.start)  # lower better: 5/4 = 125 %
        target("csat", "5", before.start)  # 90 % -> amber (red below 90)
        target("arpu", "1", before.start)  # 600 / 3000 = 0.2 -> 20 % red
        card = kpi_scorecard(partner=p, period=period)

    lines = {line.kpi.key: line for line in card.lines}
    assert lines["revenue"].actual == Decimal("600")
    assert (lines["revenue"].attainment, lines["revenue"].status) == (Decimal("120.0"), "green")
    assert lines["revenue"].previous == Decimal("200") and lines["revenue"].trend == "better"
    assert lines["active_subscribers"].actual == Decimal("3000")
    assert lines["complaints_per_1000"].actual == Decimal("4")
    assert lines["complaints_per_1000"].attainment == Decimal("125.0")
    assert lines["csat"].actual == Decimal("4.5") and lines["csat"].status == "amber"
    assert lines["arpu"].actual == Decimal("0.2") and lines["arpu"].status == "red"
    assert lines["churn"].actual is None and lines["churn"].status == "none"
    # Weighted: (2 * 120 + 125 + 90 + 20) / 5 = 95
    assert card.score == Decimal("95.0") and card.status == "amber"


def test_within_band_attainment(personas):
    period = last_month()
    with tenant_context(personas.tenant_a):
        kpi = KpiDefinition.objects.get(key="churn")
        kpi.direction, kpi.band_low, kpi.band_high = "within_band", Decimal(1), Decimal(2)
        kpi.save()
        put(personas.a_partner, "churn", period.start, ["1.5", "1.7"])
        put(personas.a_other_partner, "churn", period.start, ["4", "4"])
        inside = kpi_scorecard(partner=personas.a_partner, period=period).line("churn")
        outside = kpi_scorecard(partner=personas.a_other_partner, period=period).line("churn")
    assert inside.attainment == Decimal("100.0") and inside.status == "green"
    assert outside.attainment == Decimal("50.0") and outside.status == "red"


def test_scorecard_api_isolation_and_errors(personas):
    period = last_month()
    with tenant_context(personas.tenant_a):
        put(personas.a_partner, "revenue", period.start, ["10", "20"])
    client = bearer(personas.a_viewer, personas.tenant_a)
    url = "/api/v1/kpis/scorecards/"
    response = client.get(url, {"partner": personas.a_partner.pk, "period": period.label})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == period.label
    revenue = next(line for line in body["lines"] if line["kpi"] == "revenue")
    assert Decimal(revenue["actual"]) == Decimal(30)
    quarter = f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
    assert client.get(url, {"partner": personas.a_partner.pk, "period": quarter}).status_code == 200
    assert client.get(url, {"partner": personas.b_partner.pk}).status_code == 404
    bad = client.get(url, {"partner": personas.a_partner.pk, "period": "2026-13"})
    assert bad.status_code == 400 and "period" in bad.json()["error"]["details"]
    assert client.get(url).status_code == 400
    portal = bearer(personas.a_partner_user, personas.tenant_a)
    assert portal.get(url, {"partner": personas.a_partner.pk}).status_code == 403


def _grow(tenant, n: int) -> None:
    with tenant_context(tenant):
        for _ in range(n):
            partner = PartnerFactory()
            put(partner, "revenue", last_month().start, ["1", "2", "3"])


def test_portfolio_and_scorecard_query_counts_are_constant(personas, django_assert_max_num_queries):
    client = login(personas.a_manager)
    period = last_month().label
    _grow(personas.tenant_a, 2)
    with tenant_context(personas.tenant_b):
        put(personas.b_partner, "revenue", last_month().start, ["7"])
    # 13: the page's COUNT (the heat-map is paged) is one of them.
    with django_assert_max_num_queries(13) as small:
        page = client.get("/kpis/", {"period": period})
    assert page.status_code == 200
    assert "Foreign" not in page.content.decode()  # tenant B's partner
    # Sorted: the partners' ids (their count) and the page's ids in order instead of the COUNT.
    with django_assert_max_num_queries(len(small.captured_queries) + 1) as sorted_small:
        client.get("/kpis/", {"period": period, "sort": "revenue", "dir": "desc"})
    _grow(personas.tenant_a, 6)
    with django_assert_max_num_queries(len(sorted_small.captured_queries)):
        page = client.get("/kpis/", {"period": period, "sort": "revenue", "dir": "desc"})
    assert page.content.decode().count('data-testid="partner-link"') == 10
    api = bearer(personas.a_manager, personas.tenant_a)
    # Authentication and tenancy take ten of them; the scorecard itself three.
    with django_assert_max_num_queries(14):
        assert (
            api.get("/api/v1/kpis/scorecards/", {"partner": personas.a_partner.pk}).status_code
            == 200
        )


def test_portfolio_filters_and_exports(personas):
    period = last_month()
    with tenant_context(personas.tenant_a):
        put(personas.a_partner, "revenue", period.start, ["10"])
        target("revenue", "20", period.previous().start, partner=personas.a_partner)
        personas.a_other_partner.legal_name = "=HYPERLINK(1)"
        personas.a_other_partner.save()
        infra = personas.a_partner.partner_type.__class__.objects.get(key="infrastructure_provider")
    client = login(personas.a_viewer)
    filtered = client.get("/kpis/", {"period": period.label, "type": infra.pk}).content.decode()
    assert "Acme" not in filtered
    csv = client.get("/kpis/portfolio/export/", {"period": period.label, "format": "csv"})
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert "Acme Content Ltd" in text and "'=HYPERLINK(1)" in text
    xlsx = client.get("/kpis/portfolio/export/", {"period": period.label, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Partner", "Type", "Tier", "Score %", "Status")
    acme = next(r for r in rows if r[0] == "Acme Content Ltd")
    assert acme[3] == 50 and acme[4] == "red"


def test_partner_page_has_scorecard_and_chart_with_target(personas):
    period = last_month()
    with tenant_context(personas.tenant_a):
        put(personas.a_partner, "revenue", period.start, ["10", "12"])
        target("revenue", "300", period.previous().start, partner=personas.a_partner)
    client = login(personas.a_viewer)
    page = client.get(f"/kpis/partners/{personas.a_partner.pk}/", {"kpi": "revenue"})
    assert page.status_code == 200
    chart = page.context["chart"]
    kinds = [d["kind"] for d in chart["datasets"]]
    assert kinds == ["values", "target"]
    assert 'id="kpi-chart-data"' in page.content.decode()
    assert client.get(f"/kpis/partners/{personas.b_partner.pk}/").status_code == 404
    compare = client.get(
        "/kpis/compare/",
        {
            "kpi": "revenue",
            "partner": [personas.a_partner.pk, personas.a_other_partner.pk, personas.b_partner.pk],
        },
    )
    assert [d["label"] for d in compare.context["chart"]["datasets"] if d["kind"] == "values"] == [
        "Acme",
        "Other",
    ]


def test_portfolio_is_paged_by_name_and_sorted_pages_follow_the_sort(personas, monkeypatch):
    """Thousands of active partners: the heat-map shows one page of them, cut in SQL by name
    and by score or a KPI alike (tests/kpis/test_portfolio_order.py compares the sorted pages
    with the whole portfolio's scorecards sorted)."""
    monkeypatch.setattr("kpis.selectors.scorecards.PORTFOLIO_PAGE_SIZE", 2)
    period = last_month()
    with tenant_context(personas.tenant_a):
        for name, revenue in [("Aa First", "5"), ("Bb Second", "30"), ("Cc Third", "1")]:
            partner = PartnerFactory(legal_name=name)
            put(partner, "revenue", period.start, [revenue])
            target("revenue", "10", period.start, partner=partner)
    client = login(personas.a_manager)

    def names(**params) -> list[str]:
        page = client.get("/kpis/", {"period": period.label, **params})
        assert page.status_code == 200
        return [card.partner.legal_name for card, _ in page.context["rows"]]

    every = names()
    assert len(every) == 2 and every == sorted(every)
    count = client.get("/kpis/", {"period": period.label}).context["page_obj"].paginator.count
    pages = [names(page=n) for n in range(1, (count + 1) // 2 + 1)]
    flat = [n for page in pages for n in page]
    assert flat == sorted(flat) and {"Aa First", "Bb Second", "Cc Third"} <= set(flat)
    assert names(dir="desc")[0] == max(flat)
    by_revenue = names(sort="revenue", dir="desc")
    # By attainment of the revenue target, 300 % then 50 %; partners without one come last.
    assert by_revenue == ["Bb Second", "Aa First"]
    assert names(sort="revenue", dir="desc", page=2)[0] == "Cc Third"
