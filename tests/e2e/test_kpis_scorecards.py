"""KPIs in a real browser: the portfolio heat-map, a partner's chart with its target line, and a
partner reporting a value in the portal and seeing its scorecard (demo data)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PASSWORD = "partnerhub-demo"


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_manager_reads_the_heatmap_and_a_partners_chart(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "manager@demo.test")
    page.goto(f"{e2e_server}/kpis/")
    expect(page.get_by_role("heading", level=1)).to_have_text("KPI portfolio")
    heatmap = page.get_by_test_id("portfolio-heatmap")
    expect(heatmap).to_be_visible()
    expect(heatmap.locator("tbody tr").first).to_be_visible()
    expect(heatmap.locator('td[data-rag="green"]').first).to_be_visible()
    expect(heatmap.locator('td[data-rag="red"]').first).to_be_visible()

    # Sort by score, worst first, then best first.
    page.get_by_test_id("sort-score").click()
    expect(page).to_have_url(re.compile(r"sort=score&dir=asc"))
    page.get_by_test_id("sort-score").click()
    expect(page).to_have_url(re.compile(r"sort=score&dir=desc"))

    row = heatmap.locator("tbody tr", has_text="StreamWave Media")
    row.get_by_test_id("partner-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("StreamWave Media")
    expect(page.get_by_test_id("scorecard")).to_be_visible()
    # The picker submits on change once kpis.js (deferred) has run: it marks the chart ready.
    expect(page.locator("#kpi-chart")).to_have_attribute("data-ready", "1")

    page.get_by_label("KPI", exact=True).select_option("revenue")
    expect(page).to_have_url(re.compile(r"kpi=revenue"))
    canvas = page.locator("#kpi-chart")
    expect(canvas).to_have_attribute("data-ready", "1")
    expect(canvas).to_have_attribute("data-target-lines", "1")
    targets = page.evaluate(
        "() => window.partnerhubKpiChart.data.datasets.filter(d => d.kpiTarget)"
        ".map(d => d.data.filter(v => v !== null).length)"
    )
    assert targets and targets[0] > 100  # a target line across the months shown

    # The complaints chart marks the planted drift's alerts (when the job produced them).
    page.get_by_label("KPI", exact=True).select_option("complaints")
    expect(canvas).to_have_attribute("data-ready", "1")


def test_partner_reports_a_value_and_sees_its_scorecard(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "partner@demo.test")
    page.goto(f"{e2e_server}/portal/kpis/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your KPIs")
    expect(page.get_by_test_id("scorecard")).to_be_visible()
    form = page.get_by_test_id("report-form")
    form.get_by_label("KPI").select_option(label="Customer satisfaction (CSAT)")
    form.get_by_label("Value").fill("4.8")
    form.get_by_role("button", name="Submit").click()

    expect(page.get_by_test_id("messages")).to_contain_text("recorded")
    expect(page).to_have_url(re.compile(r"kpi=csat"))
    csat = page.get_by_test_id("scorecard").locator('tr[data-kpi="csat"]')
    expect(csat.get_by_test_id("actual")).not_to_have_text("no data")
    expect(page.locator("#kpi-chart")).to_have_attribute("data-ready", "1")

    # Values out of range are refused, naming the problem.
    form = page.get_by_test_id("report-form")
    expect(form.get_by_label("KPI")).to_have_value(re.compile(r"\d+"))  # the charted KPI
    form.get_by_label("Date").fill("1999-01-01")
    form.get_by_label("Value").fill("4")
    form.get_by_role("button", name="Submit").click()
    expect(page.get_by_test_id("report-form")).to_contain_text("out of range")
