"""Drift alerts in a real browser: the demo's nightly job left alerts; a manager handles them,
once from the alert list and once from a partner's chart reached through the heat-map."""

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


def test_manager_opens_a_demo_alert_and_acknowledges_it(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "manager@demo.test")
    page.goto(f"{e2e_server}/kpis/alerts/?status=open")
    expect(page.get_by_role("heading", level=1)).to_have_text("Drift alerts")
    rows = page.get_by_test_id("alert-row")
    expect(rows.first).to_be_visible()
    # The planted drift of the demo: a content provider's complaints climbing.
    complaints = rows.filter(has_text=re.compile(r"Complaints rose from"))
    expect(complaints.first).to_be_visible()
    explanation = complaints.first.get_by_test_id("alert-link").inner_text()
    complaints.first.get_by_test_id("alert-link").click()

    expect(page.get_by_test_id("alert-explanation")).to_have_text(explanation)
    expect(page.get_by_test_id("alert-status")).to_have_text("Open")
    page.get_by_label("Note (optional)").fill("Called the partner about the complaints.")
    page.get_by_test_id("alert-acknowledge").click()

    expect(page.get_by_test_id("alert-status")).to_have_text("Acknowledged")
    expect(page.get_by_test_id("alert-notes")).to_contain_text("Called the partner")
    expect(page.get_by_test_id("alert-acknowledge")).to_have_count(0)


def test_manager_goes_from_the_heatmap_to_a_charted_alert_and_acknowledges_it(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@demo.test")
    page.goto(f"{e2e_server}/kpis/")
    heatmap = page.get_by_test_id("portfolio-heatmap")
    heatmap.locator("tbody tr", has_text="StreamWave Media").get_by_test_id("partner-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("StreamWave Media")

    # The picker submits on change once kpis.js (deferred) has run: it marks the chart ready.
    expect(page.locator("#kpi-chart")).to_have_attribute("data-ready", "1")
    # Complaints per 1,000 subscribers: a monthly target of 2.5 and the planted climb.
    page.get_by_label("KPI", exact=True).select_option("complaints_per_1000")
    expect(page).to_have_url(re.compile(r"kpi=complaints_per_1000"))
    canvas = page.locator("#kpi-chart")
    expect(canvas).to_have_attribute("data-ready", "1")
    expect(canvas).to_have_attribute("data-target-lines", "1")
    expect(canvas).to_have_attribute("data-alert-marks", re.compile(r"^[1-9]\d*$"))
    marks = page.evaluate(
        "() => window.partnerhubKpiChart.data.datasets.filter(d => d.kpiAlerts)"
        ".map(d => d.data.filter(v => v !== null).length)"
    )
    assert marks and marks[0] >= 1  # a triangle drawn on the series, not only listed
    # Values and target line share a unit: the daily rate sits near the daily target.
    levels = page.evaluate(
        "() => window.partnerhubKpiChart.data.datasets.filter(d => !d.kpiAlerts).map(d => {"
        " const v = d.data.filter(x => x !== null);"
        " return v.reduce((a, b) => a + b, 0) / v.length; })"
    )
    assert len(levels) == 2 and 0.3 < levels[0] / levels[1] < 3, levels

    chart_url = page.url
    alert = page.get_by_test_id("chart-alert").filter(
        has_text=re.compile(r"Complaints per 1,000 subscribers rose from .* a month .*target 2\.5")
    )
    expect(alert.first).to_be_visible()
    expect(alert.first).to_have_attribute("data-status", "open")
    alert.first.get_by_test_id("chart-alert-link").click()

    expect(page.get_by_test_id("alert-status")).to_have_text("Open")
    expect(page.get_by_test_id("alert-explanation")).to_contain_text("target 2.5")
    page.get_by_test_id("alert-acknowledge").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("Acknowledged")

    # Back on the chart the alert is still marked, now acknowledged.
    page.goto(chart_url)
    charted = page.get_by_test_id("chart-alert").filter(has_text="Complaints per 1,000")
    expect(charted.first).to_have_attribute("data-status", "acknowledged")


def test_alerts_and_statements_show_on_the_dashboard_and_the_partner_page(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@demo.test")
    alerts_card = page.get_by_test_id("card-kpi-alerts")
    expect(alerts_card.get_by_test_id("card-value")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_test_id("card-draft-statements").get_by_test_id("card-value")).to_have_text(
        re.compile(r"^[1-9]\d*$")
    )

    page.goto(f"{e2e_server}/partners/?search=StreamWave")
    page.get_by_role("link", name="StreamWave Media").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("StreamWave Media")
    kpis = page.get_by_test_id("partner-kpi-summary")
    expect(kpis.get_by_test_id("partner-kpi-alerts").get_by_role("link").first).to_contain_text(
        "Complaints"
    )
    statements = page.get_by_test_id("partner-statements")
    expect(statements.get_by_role("link").first).to_be_visible()
    statements.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/settlements/statements/\d+/$"))
