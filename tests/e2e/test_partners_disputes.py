"""A dispute goes back and forth in the browser: the partner raises it in the portal, the manager
comments and investigates, the partner replies, the manager resolves it; both see the end."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.e2e

PASSWORD = "partnerhub-demo"


def signed_in(browser: Browser, base_url: str, email: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.js_errors = errors  # type: ignore[attr-defined]
    return context, page


def test_dispute_goes_back_and_forth_between_partner_and_manager(
    browser: Browser, e2e_server: str
) -> None:
    title = f"Streams missing from statement {uuid.uuid4().hex[:6]}"
    partner_context, partner = signed_in(browser, e2e_server, "partner@demo.test")
    manager_context, manager = signed_in(browser, e2e_server, "manager@demo.test")
    try:
        # The partner raises the dispute in the portal.
        partner.goto(f"{e2e_server}/portal/disputes/")
        partner.get_by_role("link", name="Raise a dispute").click()
        partner.get_by_label("Category").select_option(label="Settlement")
        partner.get_by_label("Title").fill(title)
        partner.get_by_label("Description").fill("Two days of streams are not in October.")
        partner.get_by_role("button", name="Send").click()
        expect(partner.get_by_test_id("dispute-title")).to_have_text(title)
        expect(partner.get_by_test_id("dispute-status")).to_have_text("Open")
        dispute_url = partner.url

        # The manager finds it, comments and starts investigating.
        manager.goto(f"{e2e_server}/partners/disputes/?status=open")
        manager.get_by_role("link", name=title).click()
        expect(manager.get_by_test_id("dispute-description")).to_contain_text("Two days")
        manager.get_by_label("Comment").fill("Thanks, we are checking the usage import.")
        manager.get_by_role("button", name="Comment").click()
        expect(manager.get_by_test_id("messages")).to_contain_text("Comment added")
        manager.get_by_label("New status").select_option(label="Investigating")
        manager.get_by_role("button", name="Change status").click()
        expect(manager.get_by_test_id("dispute-status")).to_have_text("Investigating")
        expect(manager.get_by_test_id("dispute-owner")).to_have_text("Max Manager")

        # The partner sees the comment and the new status, and replies.
        partner.goto(dispute_url)
        expect(partner.get_by_test_id("dispute-status")).to_have_text("Investigating")
        expect(partner.get_by_test_id("dispute-comment")).to_contain_text(
            "checking the usage import"
        )
        partner.get_by_label("Comment").fill("The missing days are 14 and 15 October.")
        partner.get_by_role("button", name="Reply").click()
        expect(partner.get_by_test_id("dispute-comment")).to_have_count(2)

        # Closing needs a resolution: first refused, then resolved.
        manager.reload()
        expect(manager.get_by_test_id("dispute-comment").nth(1)).to_contain_text("14 and 15")
        manager.get_by_label("New status").select_option(label="Resolved")
        manager.get_by_role("button", name="Change status").click()
        expect(manager.get_by_text("Explain the resolution before closing")).to_be_visible()
        manager.get_by_label("New status").select_option(label="Resolved")
        manager.get_by_label("Resolution").fill("Usage re-imported; credit on the next statement.")
        manager.get_by_role("button", name="Change status").click()
        expect(manager.get_by_test_id("dispute-status")).to_have_text("Resolved")
        expect(manager.get_by_test_id("dispute-resolution")).to_contain_text("Usage re-imported")
        expect(manager.get_by_test_id("stage-total")).to_be_visible()

        # Both see the final state; the partner can no longer reply.
        partner.reload()
        expect(partner.get_by_test_id("dispute-status")).to_have_text("Resolved")
        expect(partner.get_by_test_id("dispute-resolution")).to_contain_text("Usage re-imported")
        expect(partner.get_by_test_id("dispute-closed")).to_be_visible()
        expect(partner.get_by_test_id("comment-form")).to_have_count(0)
        partner.goto(f"{e2e_server}/portal/disputes/?status=resolved")
        expect(partner.get_by_role("link", name=title)).to_be_visible()
        assert partner.js_errors == [] and manager.js_errors == []  # type: ignore[attr-defined]
    finally:
        partner_context.close()
        manager_context.close()
