"""Onboarding API: transitions, checklist steps, risk assessments, checklist templates and
the funnel; isolation between tenants, role permissions, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerhub.tenancy.context import tenant_context
from partners.models import (
    ChecklistStep,
    ChecklistTemplateItem,
    Partner,
    PartnerStatus,
    PartnerType,
    StatusTransition,
)
from partners.services.onboarding import onboarding_start
from tests.conftest import bearer
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

S = PartnerStatus
API = "/api/v1/onboarding"


def _started(tenant, status=S.APPLIED, **kwargs) -> Partner:
    with tenant_context(tenant):
        partner = PartnerFactory(status=status, **kwargs)
        onboarding_start(partner=partner, actor=None)
    return partner


def _step(tenant, partner: Partner, key: str) -> ChecklistStep:
    with tenant_context(tenant):
        return ChecklistStep.objects.get(partner=partner, key=key)


def test_a_manager_moves_a_partner_and_reads_its_history(personas) -> None:
    partner = _started(personas.tenant_a)
    api = bearer(personas.a_manager, personas.tenant_a)

    response = api.post(
        f"{API}/partners/{partner.pk}/transitions/",
        {"to_status": "vetting", "comment": "Documents received."},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["from_status"], body["to_status"], body["actor"]) == (
        "applied",
        "vetting",
        personas.a_manager.email,
    )
    history = api.get(f"{API}/partners/{partner.pk}/transitions/").json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("", "applied"),
        ("applied", "vetting"),
    ]
    assert history[1]["comment"] == "Documents received."
    assert history[0]["days_in_stage"] == "0.0"


def test_an_invalid_transition_is_a_400_naming_the_problem_and_changes_nothing(personas) -> None:
    partner = _started(personas.tenant_a)
    api = bearer(personas.a_manager, personas.tenant_a)

    response = api.post(
        f"{API}/partners/{partner.pk}/transitions/",
        {"to_status": "active"},
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["to_status"] == [
        "A partner cannot go from 'Applied' to 'Active'. "
        "Allowed from 'Applied': 'Vetting', 'Rejected'."
    ]
    rejected = api.post(
        f"{API}/partners/{partner.pk}/transitions/",
        {"to_status": "rejected"},
        content_type="application/json",
    )
    assert rejected.status_code == 400
    assert "needs a reason" in rejected.json()["error"]["details"]["reason"][0]
    with tenant_context(personas.tenant_a):
        partner.refresh_from_db()
        assert partner.status == S.APPLIED
        assert StatusTransition.objects.filter(partner=partner).count() == 1


def test_another_tenants_partner_or_step_answers_like_a_missing_one(personas) -> None:
    foreign = _started(personas.tenant_b)
    foreign_step = _step(personas.tenant_b, foreign, "api_credentials")
    api = bearer(personas.a_manager, personas.tenant_a)

    for url in (
        f"{API}/partners/{foreign.pk}/transitions/",
        f"{API}/partners/{foreign.pk}/checklist/",
        f"{API}/partners/{foreign.pk}/risk-assessments/",
        f"{API}/steps/{foreign_step.pk}/",
        f"{API}/partners/999999/checklist/",
    ):
        assert api.get(url).status_code == 404, url
    moved = api.post(
        f"{API}/partners/{foreign.pk}/transitions/",
        {"to_status": "vetting"},
        content_type="application/json",
    )
    completed = api.post(
        f"{API}/steps/{foreign_step.pk}/complete/", {"note": "x"}, content_type="application/json"
    )
    assert (moved.status_code, completed.status_code) == (404, 404)
    assert moved.json() == api.get(f"{API}/partners/999999/transitions/").json()
    with tenant_context(personas.tenant_b):
        assert Partner.objects.get(pk=foreign.pk).status == S.APPLIED
        assert ChecklistStep.objects.get(pk=foreign_step.pk).state == "pending"


def test_a_viewer_reads_but_cannot_change_anything(personas) -> None:
    partner = _started(personas.tenant_a)
    step = _step(personas.tenant_a, partner, "api_credentials")
    api = bearer(personas.a_viewer, personas.tenant_a)

    assert api.get(f"{API}/partners/{partner.pk}/checklist/").status_code == 200
    assert api.get(f"{API}/funnel/").status_code == 200
    writes = [
        (f"{API}/partners/{partner.pk}/transitions/", {"to_status": "vetting"}),
        (f"{API}/steps/{step.pk}/complete/", {"note": "x"}),
        (f"{API}/steps/{step.pk}/waive/", {"comment": "x"}),
        (f"{API}/checklist-templates/", {"kind": "onboarding", "title": "X"}),
    ]
    for url, body in writes:
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == 403, url
        assert response.json()["error"]["status"] == 403
    with tenant_context(personas.tenant_a):
        partner.refresh_from_db()
        assert partner.status == S.APPLIED
        assert not ChecklistTemplateItem.objects.filter(title="X").exists()


def test_a_partner_user_cannot_use_the_staff_onboarding_api(personas) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    partner = personas.a_partner
    assert api.get(f"{API}/partners/{partner.pk}/checklist/").status_code == 403
    assert api.get(f"{API}/funnel/").status_code == 403


def test_steps_are_completed_reopened_and_waived_through_the_api(personas) -> None:
    partner = _started(personas.tenant_a, status=S.INTEGRATION)
    api = bearer(personas.a_manager, personas.tenant_a)
    step = _step(personas.tenant_a, partner, "api_credentials")

    missing_note = api.post(f"{API}/steps/{step.pk}/complete/", {}, content_type="application/json")
    assert missing_note.status_code == 400
    assert missing_note.json()["error"]["details"]["note"] == [
        "The step 'API credentials issued' needs a note as evidence."
    ]

    done = api.post(
        f"{API}/steps/{step.pk}/complete/", {"note": "Keys sent."}, content_type="application/json"
    )
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["completed_by"]) == ("done", personas.a_manager.email)

    reopened = api.post(f"{API}/steps/{step.pk}/reopen/", {}, content_type="application/json")
    assert reopened.json()["state"] == "pending"

    partner_step = _step(personas.tenant_a, partner, "content_licence")
    refused = api.post(
        f"{API}/steps/{partner_step.pk}/complete/", {"note": "x"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["non_field_errors"] == [
        "The step 'Content licence' can only be completed by the partner."
    ]

    waive = api.post(
        f"{API}/steps/{partner_step.pk}/waive/", {"comment": "x"}, content_type="application/json"
    )
    assert waive.status_code == 400
    assert (
        "only a tenant admin may waive it"
        in waive.json()["error"]["details"]["non_field_errors"][0]
    )
    admin = bearer(personas.a_admin, personas.tenant_a)
    waived = admin.post(
        f"{API}/steps/{partner_step.pk}/waive/",
        {"comment": "Licence covered by the group agreement."},
        content_type="application/json",
    )
    assert waived.json()["state"] == "waived"

    checklist = api.get(f"{API}/partners/{partner.pk}/checklist/?kind=onboarding").json()
    assert [s["key"] for s in checklist][:2] == ["company_documents", "tax_form"]
    assert {s["key"]: s["state"] for s in checklist}["content_licence"] == "waived"


def test_another_tenants_document_is_refused_as_evidence(personas) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from partners.services.documents import document_upload

    with tenant_context(personas.tenant_b):
        foreign_doc = document_upload(
            partner=personas.b_partner,
            upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
            doc_type="contract",
            uploaded_by=personas.b_manager,
        )
    partner = _started(personas.tenant_a, status=S.CONTRACTING)
    step = _step(personas.tenant_a, partner, "contract_signed")
    api = bearer(personas.a_manager, personas.tenant_a)

    response = api.post(
        f"{API}/steps/{step.pk}/complete/",
        {"document": foreign_doc.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["error"]["details"]["document"][0]


def test_risk_assessment_through_the_api(personas) -> None:
    partner = _started(personas.tenant_a, status=S.DUE_DILIGENCE)
    api = bearer(personas.a_manager, personas.tenant_a)
    url = f"{API}/partners/{partner.pk}/risk-assessments/"
    answers = {
        "financial_position": 2,
        "track_record": 3,
        "compliance": 2,
        "security": 4,
        "strategic_fit": 1,
    }

    bad = api.post(url, {"answers": {**answers, "security": 9}}, content_type="application/json")
    assert bad.status_code == 400
    assert "security" in bad.json()["error"]["details"]["answers"]

    created = api.post(url, {"answers": answers, "notes": "ok"}, content_type="application/json")
    assert created.status_code == 201
    assert (created.json()["score"], created.json()["risk_level"]) == ("2.55", "medium")
    listed = api.get(url).json()
    assert [a["score"] for a in listed] == ["2.55"]
    assert listed[0]["answers"] == answers


def test_checklist_templates_crud(personas) -> None:
    api = bearer(personas.a_manager, personas.tenant_a)
    with tenant_context(personas.tenant_a):
        content = PartnerType.objects.get(key="content_provider")
    with tenant_context(personas.tenant_b):
        foreign_type = PartnerType.objects.get(key="content_provider")

    created = api.post(
        f"{API}/checklist-templates/",
        {
            "kind": "onboarding",
            "partner_type": content.pk,
            "title": "Content rating certificate",
            "completed_by": "partner",
            "evidence": "document",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    item = created.json()
    assert (item["key"], item["position"]) == ("content_rating_certificate", 103)

    duplicate = api.post(
        f"{API}/checklist-templates/",
        {"kind": "onboarding", "partner_type": content.pk, "key": "tax_form", "title": "Tax"},
        content_type="application/json",
    )
    assert duplicate.status_code == 400
    assert (
        "already has a step with the key 'tax_form'"
        in duplicate.json()["error"]["details"]["key"][0]
    )

    foreign = api.post(
        f"{API}/checklist-templates/",
        {"kind": "onboarding", "partner_type": foreign_type.pk, "title": "Sneaky"},
        content_type="application/json",
    )
    assert foreign.status_code == 400
    assert "does not exist" in foreign.json()["error"]["details"]["partner_type"][0]

    patched = api.patch(
        f"{API}/checklist-templates/{item['id']}/",
        {"mandatory": False},
        content_type="application/json",
    )
    assert patched.json()["mandatory"] is False
    listed = api.get(f"{API}/checklist-templates/?partner_type={content.pk}").json()
    assert [r["key"] for r in listed["results"]][-1] == "content_rating_certificate"
    common = api.get(f"{API}/checklist-templates/?common=true&kind=offboarding").json()
    assert [r["key"] for r in common["results"]] == [
        "final_settlement",
        "access_revoked",
        "documents_archived",
    ]
    assert api.delete(f"{API}/checklist-templates/{item['id']}/").status_code == 204
    with tenant_context(personas.tenant_b):
        b_item = ChecklistTemplateItem.objects.first()
    assert api.get(f"{API}/checklist-templates/{b_item.pk}/").status_code == 404
    assert api.delete(f"{API}/checklist-templates/{b_item.pk}/").status_code == 404


def _history(tenant, partner: Partner, stays: list[tuple[str, int]]) -> None:
    """Give a partner a back-dated history: (status, days spent in it), oldest first."""
    with tenant_context(tenant):
        StatusTransition.objects.filter(partner=partner).delete()
        at = timezone.now() - timedelta(days=sum(days for _, days in stays) + 1)
        previous = ""
        for status, days in stays:
            row = StatusTransition.objects.create(
                partner=partner, from_status=previous, to_status=status
            )
            StatusTransition.objects.filter(pk=row.pk).update(at=at)
            at += timedelta(days=days)
            previous = status
        Partner.objects.filter(pk=partner.pk).update(status=previous)


def test_the_funnel_counts_partners_and_takes_the_median_of_finished_stays(personas) -> None:
    a = personas.tenant_a
    # applied stays: 2, 4, 10 days (median 4); vetting: 6 and 8 (median 7); one still vetting.
    _history(a, _started(a), [("applied", 2), ("vetting", 6), ("due_diligence", 1)])
    _history(a, _started(a), [("applied", 4), ("vetting", 8), ("rejected", 0)])
    _history(a, _started(a), [("applied", 10), ("vetting", 3)])
    # Tenant B's data must not count.
    _history(personas.tenant_b, _started(personas.tenant_b), [("applied", 100), ("vetting", 1)])

    api = bearer(personas.a_manager, personas.tenant_a)
    with_queries = api.get(f"{API}/funnel/")
    stages = {s["status"]: s for s in with_queries.json()["stages"]}

    assert (stages["applied"]["median_days"], stages["applied"]["stays"]) == ("4.0", 3)
    assert (stages["vetting"]["median_days"], stages["vetting"]["stays"]) == ("7.0", 2)
    assert stages["due_diligence"]["median_days"] is None
    assert stages["vetting"]["count"] == 1
    assert stages["due_diligence"]["count"] == 1
    assert stages["rejected"]["count"] == 1
    # personas' two partners of A are active (no history).
    assert stages["active"]["count"] == 2
    assert list(stages) == [
        "applied",
        "vetting",
        "due_diligence",
        "contracting",
        "integration",
        "active",
        "suspended",
        "offboarding",
        "exited",
        "rejected",
    ]


def test_the_schema_documents_the_onboarding_endpoints(personas) -> None:
    from django.test import Client

    schema = Client().get("/api/schema/").content.decode()
    for path in (
        "/api/v1/onboarding/partners/{id}/transitions/",
        "/api/v1/onboarding/partners/{id}/checklist/",
        "/api/v1/onboarding/partners/{id}/risk-assessments/",
        "/api/v1/onboarding/steps/{id}/complete/",
        "/api/v1/onboarding/steps/{id}/reopen/",
        "/api/v1/onboarding/steps/{id}/waive/",
        "/api/v1/onboarding/checklist-templates/",
        "/api/v1/onboarding/funnel/",
    ):
        assert path in schema, path
