"""Onboarding pages: the partner panel (full page and htmx fragment), the pipeline, and the
checklist template settings; permissions, isolation and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerhub.tenancy.context import tenant_context
from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Partner,
    PartnerStatus,
    PartnerType,
    StatusTransition,
)
from partners.services.onboarding import onboarding_start, partner_transition
from tests.conftest import login
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

S = PartnerStatus
HTMX = {"HTTP_HX_REQUEST": "true"}


def _started(tenant, status=S.APPLIED, **kwargs) -> Partner:
    with tenant_context(tenant):
        partner = PartnerFactory(status=status, **kwargs)
        onboarding_start(partner=partner, actor=None)
    return partner


def _panel(partner: Partner) -> str:
    return f"/partners/{partner.pk}/onboarding/"


def test_the_panel_shows_status_next_steps_checklist_and_history(personas) -> None:
    partner = _started(personas.tenant_a, status=S.INTEGRATION)
    client = login(personas.a_manager)

    page = client.get(_panel(partner))
    fragment = client.get(_panel(partner), **HTMX)

    assert page.status_code == fragment.status_code == 200
    assert b"<html" in page.content and b"<html" not in fragment.content
    html = fragment.content.decode()
    assert 'data-testid="partner-status">Integration<' in html
    assert 'data-testid="transition-active"' in html
    assert 'data-testid="transition-rejected"' in html
    # Active is offered but locked while mandatory steps are open; they are named.
    assert "Still open: Company registration documents, Tax form" in html
    assert 'data-testid="transition-vetting"' not in html  # never offered from integration
    assert 'data-testid="step-content_licence"' in html
    assert "Waiting for the partner" in html
    assert 'data-testid="complete-api_credentials"' in html
    assert 'data-testid="risk-form"' in html


def test_a_manager_moves_a_partner_with_a_plain_form_post(personas) -> None:
    partner = _started(personas.tenant_a)
    client = login(personas.a_manager)

    response = client.post(
        f"{_panel(partner)}transition/", {"to_status": "vetting", "comment": "Docs in."}
    )

    assert response.status_code == 302
    assert response["Location"] == _panel(partner)
    with tenant_context(personas.tenant_a):
        partner.refresh_from_db()
        assert partner.status == S.VETTING
        assert StatusTransition.objects.filter(partner=partner).last().comment == "Docs in."
    assert "is now vetting" in client.get(_panel(partner)).content.decode()


def test_a_refused_transition_shows_the_reason_and_changes_nothing(personas) -> None:
    partner = _started(personas.tenant_a, status=S.INTEGRATION)
    client = login(personas.a_manager)

    plain = client.post(f"{_panel(partner)}transition/", {"to_status": "active"})
    htmx = client.post(f"{_panel(partner)}transition/", {"to_status": "rejected"}, **HTMX)

    assert plain.status_code == 400
    assert "before every mandatory onboarding step is done or waived" in plain.content.decode()
    assert htmx.status_code == 200  # htmx only swaps 2xx answers
    html = htmx.content.decode()
    assert 'data-testid="onboarding-error"' in html
    assert "Rejecting a partner in &#x27;Integration&#x27; needs a reason." in html
    assert "<html" not in html
    with tenant_context(personas.tenant_a):
        partner.refresh_from_db()
        assert partner.status == S.INTEGRATION
        assert StatusTransition.objects.filter(partner=partner).count() == 1


def test_steps_are_completed_waived_and_reopened_from_the_panel(personas) -> None:
    partner = _started(personas.tenant_a, status=S.INTEGRATION)
    with tenant_context(personas.tenant_a):
        step = ChecklistStep.objects.get(partner=partner, key="api_credentials")
    client = login(personas.a_manager)
    url = f"{_panel(partner)}steps/{step.pk}/"

    missing = client.post(f"{url}complete/", {"note": ""}, **HTMX)
    assert "needs a note as evidence" in missing.content.decode()
    done = client.post(f"{url}complete/", {"note": "Keys sent."}, **HTMX)
    assert "Step &#x27;API credentials issued&#x27; completed." in done.content.decode()
    with tenant_context(personas.tenant_a):
        step.refresh_from_db()
        assert (step.state, step.note, step.completed_by) == (
            "done",
            "Keys sent.",
            personas.a_manager,
        )

    client.post(f"{url}reopen/", **HTMX)
    with tenant_context(personas.tenant_a):
        step.refresh_from_db()
        assert step.state == "pending"
    assert client.post(f"{url}explode/").status_code == 404


def test_a_risk_assessment_is_recorded_from_the_panel(personas) -> None:
    partner = _started(personas.tenant_a, status=S.DUE_DILIGENCE)
    client = login(personas.a_manager)
    answers = {
        "financial_position": "2",
        "track_record": "3",
        "compliance": "2",
        "security": "4",
        "strategic_fit": "1",
    }

    incomplete = client.post(f"{_panel(partner)}risk/", {"security": "4"}, **HTMX)
    assert "Financial position: This field is required." in incomplete.content.decode()

    response = client.post(f"{_panel(partner)}risk/", {**answers, "notes": "ok"}, **HTMX)
    html = response.content.decode()
    assert "score 2.55, medium risk" in html
    assert 'data-testid="risk-score">2.55<' in html
    with tenant_context(personas.tenant_a):
        partner.refresh_from_db()
        assert partner.risk_level == "medium"


def test_a_viewer_sees_no_actions_and_cannot_post(personas) -> None:
    partner = _started(personas.tenant_a, status=S.INTEGRATION)
    with tenant_context(personas.tenant_a):
        step = ChecklistStep.objects.get(partner=partner, key="api_credentials")
    client = login(personas.a_viewer)

    html = client.get(_panel(partner)).content.decode()
    assert 'data-testid="onboarding-panel"' in html
    assert "<form" not in html.split('id="onboarding-panel"')[1]
    for url, data in [
        (f"{_panel(partner)}transition/", {"to_status": "rejected", "reason": "x"}),
        (f"{_panel(partner)}steps/{step.pk}/complete/", {"note": "x"}),
        (f"{_panel(partner)}risk/", {}),
        ("/partners/onboarding/checklists/", {"title": "X"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    with tenant_context(personas.tenant_a):
        partner.refresh_from_db()
        assert partner.status == S.INTEGRATION


def test_another_tenants_partner_is_a_404_and_partner_users_are_refused(personas) -> None:
    foreign = _started(personas.tenant_b)
    manager = login(personas.a_manager)
    assert manager.get(_panel(foreign)).status_code == 404
    assert (
        manager.post(f"{_panel(foreign)}transition/", {"to_status": "vetting"}).status_code == 404
    )
    with tenant_context(personas.tenant_b):
        assert Partner.objects.get(pk=foreign.pk).status == S.APPLIED

    portal_user = login(personas.a_partner_user)
    assert portal_user.get(_panel(personas.a_partner)).status_code == 403
    assert portal_user.get("/partners/onboarding/").status_code == 403


def _grow(tenant, count: int) -> None:
    statuses = [S.APPLIED, S.VETTING, S.DUE_DILIGENCE, S.CONTRACTING, S.INTEGRATION]
    with tenant_context(tenant):
        for index in range(count):
            partner = PartnerFactory(status=S.APPLIED)
            onboarding_start(partner=partner, actor=None)
            for status in statuses[1 : 1 + index % len(statuses)]:
                partner_transition(partner=partner, to_status=status, actor=None)


def test_the_pipeline_groups_partners_by_stage_in_a_constant_number_of_queries(
    personas, django_assert_max_num_queries
) -> None:
    _grow(personas.tenant_a, 3)
    _grow(personas.tenant_b, 2)
    client = login(personas.a_manager)
    with CaptureQueriesContext(connection) as small:
        first = client.get("/partners/onboarding/")
    assert first.status_code == 200
    html = first.content.decode()
    assert html.count('data-testid="pipeline-partner"') == 3  # none of tenant B's
    assert 'data-testid="stage-applied"' in html and "median" in html

    _grow(personas.tenant_a, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        grown = client.get("/partners/onboarding/")
    assert grown.content.decode().count('data-testid="pipeline-partner"') == 15


def test_the_pipeline_filters_by_partner_type(personas) -> None:
    with tenant_context(personas.tenant_a):
        infra = PartnerType.objects.get(key="infrastructure_provider")
    _started(personas.tenant_a, trading_name="Tower Co", partner_type=infra)
    _started(personas.tenant_a, trading_name="Media Co")
    html = login(personas.a_manager).get(f"/partners/onboarding/?partner_type={infra.pk}")
    assert "Tower Co" in html.content.decode()
    assert "Media Co" not in html.content.decode()


def test_the_panel_runs_a_constant_number_of_queries(
    personas, django_assert_max_num_queries
) -> None:
    partner = _started(personas.tenant_a)
    client = login(personas.a_manager)
    with CaptureQueriesContext(connection) as small:
        client.get(_panel(partner), **HTMX)
    with tenant_context(personas.tenant_a):
        for status in (S.VETTING, S.DUE_DILIGENCE, S.CONTRACTING, S.INTEGRATION):
            partner_transition(partner=partner, to_status=status, actor=personas.a_manager)
        ChecklistStep.objects.filter(partner=partner).update(
            state="done", completed_by=personas.a_manager
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(_panel(partner), **HTMX)


def test_admins_and_managers_edit_the_checklist_templates(personas) -> None:
    with tenant_context(personas.tenant_a):
        content = PartnerType.objects.get(key="content_provider")
    client = login(personas.a_manager)
    url = f"/partners/onboarding/checklists/?kind=onboarding&partner_type={content.pk}"

    page = client.get(url).content.decode()
    assert 'data-testid="template-content_licence"' in page
    assert "also gets the 5 common steps first" in page

    added = client.post(
        url,
        {
            "title": "Content rating",
            "completed_by": "partner",
            "evidence": "document",
            "mandatory": "on",
        },
    )
    assert added.status_code == 302
    with tenant_context(personas.tenant_a):
        item = ChecklistTemplateItem.objects.get(key="content_rating")
        assert (item.partner_type, item.kind, item.mandatory) == (content, "onboarding", True)

    duplicate = client.post(
        url, {"title": "Tax", "key": "tax_form", "completed_by": "csp", "evidence": "none"}
    )
    assert duplicate.status_code == 400
    assert "already has a step with the key" in duplicate.content.decode()

    item_url = f"/partners/onboarding/checklists/{item.pk}/"
    assert client.post(item_url, {"action": "up"}).status_code == 302
    saved = client.post(
        item_url,
        {
            "title": "Age rating",
            "key": "content_rating",
            "completed_by": "partner",
            "evidence": "none",
        },
    )
    assert saved.status_code == 302
    with tenant_context(personas.tenant_a):
        item.refresh_from_db()
        assert (item.title, item.mandatory, item.position) == ("Age rating", False, 102)
    assert client.post(item_url, {"action": "delete"}).status_code == 302
    with tenant_context(personas.tenant_a):
        assert not ChecklistTemplateItem.objects.filter(pk=item.pk).exists()

    with tenant_context(personas.tenant_b):
        foreign_item = ChecklistTemplateItem.objects.filter(kind=ChecklistKind.ONBOARDING).first()
        foreign_type = PartnerType.objects.first()
    assert client.get(f"/partners/onboarding/checklists/{foreign_item.pk}/").status_code == 404
    assert (
        client.get(f"/partners/onboarding/checklists/?partner_type={foreign_type.pk}").status_code
        == 404
    )


def test_viewers_read_the_checklist_templates_without_edit_controls(personas) -> None:
    client = login(personas.a_viewer)
    page = client.get("/partners/onboarding/checklists/")
    assert page.status_code == 200
    assert 'data-testid="checklist-add"' not in page.content.decode()
    with tenant_context(personas.tenant_a):
        item = ChecklistTemplateItem.objects.first()
    assert client.get(f"/partners/onboarding/checklists/{item.pk}/").status_code == 403
