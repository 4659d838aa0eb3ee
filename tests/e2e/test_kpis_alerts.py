"""Drift alerts in a real browser: the demo's nightly job left alerts; a manager handles one."""

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


def test_manager_opens_a_demo_alert_and_acknowledges_it(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "manager@demo.test")
    page.goto(f"{e2e_server}/kpis/alerts/?status=open")
    expect(page.get_by_role("heading", level=1)).to_have_text("Drift alerts")
    rows = page.get_by_test_id("alert-row")
    expect(rows.first).to_be_visible()
    # The planted drift of the demo: a content provider's complaints climbing.
    complaints = rows.filter(has_text=re.compile(r"Complaints.* rose from"))
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
