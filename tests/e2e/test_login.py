"""Signing in and out in a real browser, against a real server with the demo data."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PASSWORD = "partnerhub-demo"


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_manager_signs_in_and_lands_on_the_dashboard(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "manager@demo.test", PASSWORD)

    expect(page).to_have_url(f"{e2e_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo Telecom")
    expect(page.get_by_test_id("role-badge")).to_have_text("Partner manager")
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_role("link", name="Dashboard", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    # Every area of the app is one menu away.
    for area in ("Partners", "KPIs", "Settlements"):
        expect(nav.get_by_role("button", name=area)).to_be_visible()
    # The audit trail is for tenant admins only.
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@demo.test", "not-the-password")

    expect(page).to_have_url(f"{e2e_server}/accounts/login/")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct email and password")
    expect(page.get_by_label("Email")).to_have_value("manager@demo.test")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_test_id("main-nav")).to_have_count(0)


def test_single_tenant_user_sees_no_tenant_switcher_and_can_sign_out(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@second.test", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Second Telecom")

    expect(page.get_by_test_id("tenant-switcher")).to_have_count(0)
    expect(page.get_by_test_id("tenant-name")).to_have_text("Second Telecom")

    page.get_by_test_id("user-menu").get_by_role("button", name="manager@second.test").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{e2e_server}/accounts/login/")
    page.goto(f"{e2e_server}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_admin_opens_the_audit_trail_and_filters_it(page: Page, e2e_server: str) -> None:
    sign_in(page, e2e_server, "admin@demo.test", PASSWORD)

    page.get_by_test_id("main-nav").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    rows = page.get_by_test_id("audit-table").locator("tbody tr")
    expect(rows.first).to_be_visible()

    page.get_by_label("Object type").fill("tenancy.membership")
    page.get_by_label("Action").select_option(label="create")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"[?&]model=tenancy\.membership(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]action=0(&|$)"))
    expect(rows.filter(has_not_text="tenancy.membership")).to_have_count(0)
    # load_demo created the tenant's memberships outside any request: no actor, "system".
    expect(rows.first).to_contain_text("system")

    page.get_by_label("Actor email").fill("nobody@example.invalid")
    page.get_by_role("button", name="Filter").click()

    expect(page.get_by_test_id("audit-empty")).to_have_text("No audit entries match these filters.")
