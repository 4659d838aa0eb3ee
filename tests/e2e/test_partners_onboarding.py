"""Onboarding in a real browser: a manager takes partners through the lifecycle to active;
an invalid transition is never offered and a rejection needs a reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_login import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def open_first_partner_in(page: Page, base_url: str, stage: str) -> str:
    """Open the panel of the first partner of a pipeline column; returns its name."""
    page.goto(f"{base_url}/partners/onboarding/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Onboarding pipeline")
    card = page.get_by_test_id(f"stage-{stage}").get_by_test_id("pipeline-partner").first
    link = card.get_by_role("link")
    name = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return name


def move_to(panel: Locator, status: str, label: str, comment: str) -> None:
    panel.get_by_label("Comment").fill(comment)
    panel.get_by_test_id(f"transition-{status}").click()
    expect(panel.get_by_test_id("partner-status")).to_have_text(label)
    expect(panel.get_by_test_id("onboarding-notice")).to_contain_text(f"is now {label.lower()}")


def test_manager_takes_an_applicant_through_the_pipeline_and_an_integrated_partner_live(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@demo.test", PASSWORD)

    # An applicant: vetting, due diligence with a risk assessment, contracting, integration.
    open_first_partner_in(page, e2e_server, "applied")
    panel = page.get_by_test_id("onboarding-panel")
    expect(panel.get_by_test_id("partner-status")).to_have_text("Applied")
    move_to(panel, "vetting", "Vetting", "Application complete.")
    move_to(panel, "due_diligence", "Due diligence", "Vetting passed.")

    risk = panel.get_by_test_id("risk-form")
    for label, score in [
        ("Financial position", "2"),
        ("Track record", "3"),
        ("Compliance", "2"),
        ("Security", "4"),
        ("Strategic fit", "1"),
    ]:
        risk.get_by_label(label).select_option(score)
    risk.get_by_role("button", name="Record assessment").click()
    expect(panel.get_by_test_id("risk-score")).to_have_text("2.55")
    expect(panel.get_by_test_id("partner-risk")).to_have_text("Medium risk")
    expect(panel.get_by_test_id("step-risk_assessment")).to_have_attribute("data-state", "done")

    move_to(panel, "contracting", "Contracting", "Due diligence passed.")
    move_to(panel, "integration", "Integration", "Contract out for signature.")
    # Active stays locked while the partner's own steps are open, and says which.
    expect(panel.get_by_test_id("transition-active")).to_be_disabled()
    expect(panel.get_by_test_id("blocked-active")).to_contain_text("Company registration documents")
    expect(panel.get_by_test_id("step-company_documents")).to_contain_text(
        "Waiting for the partner"
    )
    history = panel.get_by_test_id("history-entry")
    expect(history).to_have_count(5)
    expect(history.last).to_contain_text("Integration")
    expect(history.last).to_contain_text("Max Manager")
    expect(history.last).to_contain_text("Contract out for signature.")

    # A partner in integration whose own steps are done: the manager finishes the CSP steps.
    name = open_first_partner_in(page, e2e_server, "integration")
    panel = page.get_by_test_id("onboarding-panel")
    expect(panel.get_by_test_id("partner-status")).to_have_text("Integration")
    completed = 0
    while panel.locator("summary[data-testid^='complete-']").count():
        summary = panel.locator("summary[data-testid^='complete-']").first
        key = (summary.get_attribute("data-testid") or "").removeprefix("complete-")
        step = panel.get_by_test_id(f"step-{key}")
        summary.click()
        step.get_by_label("Note").fill("Checked by the partner manager.")
        documents = step.get_by_label("Document")
        if documents.count() and documents.locator("option").count() > 1:
            documents.select_option(index=1)
        step.get_by_role("button", name="Mark done").click()
        expect(panel.get_by_test_id(f"step-{key}")).to_have_attribute("data-state", "done")
        completed += 1
        assert completed < 20, "steps do not get done"

    expect(panel.get_by_test_id("blocked-active")).to_have_count(0)
    move_to(panel, "active", "Active", "Live in production.")
    expect(panel.get_by_test_id("transition-suspended")).to_be_visible()
    expect(panel.get_by_test_id("transition-offboarding")).to_be_visible()
    expect(panel.get_by_test_id("history-entry").last).to_contain_text("Live in production.")

    page.goto(f"{e2e_server}/partners/onboarding/")
    expect(page.get_by_test_id("stage-integration")).not_to_contain_text(name)


def test_invalid_transitions_are_not_offered_and_a_rejection_needs_a_reason(
    page: Page, e2e_server: str
) -> None:
    sign_in(page, e2e_server, "manager@demo.test", PASSWORD)
    name = open_first_partner_in(page, e2e_server, "applied")
    panel = page.get_by_test_id("onboarding-panel")

    # From applied only vetting (and rejection) are offered: no skipping ahead.
    buttons = panel.get_by_test_id("onboarding-transitions").locator("button[name=to_status]")
    expect(buttons).to_have_count(1)
    expect(buttons).to_have_attribute("value", "vetting")
    for status in ("active", "due_diligence", "contracting", "integration", "suspended"):
        expect(panel.get_by_test_id(f"transition-{status}")).to_have_count(0)

    panel.get_by_text("Reject this partner…").click()
    panel.get_by_test_id("transition-rejected").click()
    expect(panel.get_by_test_id("onboarding-error")).to_contain_text(
        "Rejecting a partner in 'Applied' needs a reason."
    )
    expect(panel.get_by_test_id("partner-status")).to_have_text("Applied")

    panel.get_by_label("Reason").fill("No licence for our markets.")
    panel.get_by_test_id("transition-rejected").click()
    expect(panel.get_by_test_id("partner-status")).to_have_text("Rejected")
    expect(panel.get_by_test_id("rejection-reason")).to_contain_text("No licence for our markets.")
    expect(panel.get_by_test_id("no-transitions")).to_be_visible()

    page.goto(f"{e2e_server}/partners/onboarding/")
    expect(page.get_by_test_id("stage-applied")).not_to_contain_text(name)
    expect(page.get_by_test_id("outcome-rejected")).to_contain_text(re.compile(r"\d"))
