"""Demo data: onboarding. For every partner of the registry demo: its checklist, a back-dated
lifecycle history up to its current status, the steps a partner at that stage has done (with
evidence), and a risk assessment from due diligence on.

Idempotent: a partner whose history already leads to its status is left alone. Deterministic:
durations come from a random generator seeded with the partner's name.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.models import Membership, Tenant
from partners.models import (
    ChecklistKind,
    ChecklistStep,
    Document,
    DocumentType,
    Partner,
    PartnerStatus,
    PartnerUser,
    RiskAssessment,
    RiskLevel,
    StatusTransition,
)
from partners.models.onboarding import Evidence, Party
from partners.services.documents import document_upload
from partners.services.onboarding import PIPELINE, checklist_instantiate, risk_score

S = PartnerStatus

# Days a partner typically spends in a stage it has left: (min, max).
STAGE_DAYS: dict[str, tuple[int, int]] = {
    S.APPLIED: (1, 6),
    S.VETTING: (3, 12),
    S.DUE_DILIGENCE: (7, 25),
    S.CONTRACTING: (5, 20),
    S.INTEGRATION: (7, 30),
    S.ACTIVE: (90, 420),
    S.SUSPENDED: (10, 40),
    S.OFFBOARDING: (10, 40),
}

# The stage by which a step is done: onboarding steps by key (type-specific ones included),
# anything else by the partner's arrival in active.
DONE_WHEN_REACHING: dict[str, str] = {
    "company_documents": S.VETTING,
    "tax_form": S.DUE_DILIGENCE,
    "bank_details": S.DUE_DILIGENCE,
    "risk_assessment": S.CONTRACTING,
    "content_licence": S.CONTRACTING,
    "security_questionnaire": S.CONTRACTING,
    "sales_training": S.CONTRACTING,
    "certifications": S.CONTRACTING,
    "insurance": S.CONTRACTING,
    "contract_signed": S.INTEGRATION,
}
# NordTower stays in due diligence with work left for the partner (applicant@demo.test).
WAITING_FOR_PARTNER = {"NordTower Infrastructure": {"tax_form", "insurance"}}

DOC_TYPES: dict[str, str] = {
    "company_documents": DocumentType.COMPANY_REGISTRATION,
    "tax_form": DocumentType.TAX_FORM,
    "content_licence": DocumentType.CONTENT_LICENCE,
    "security_questionnaire": DocumentType.CERTIFICATION,
    "certifications": DocumentType.CERTIFICATION,
    "insurance": DocumentType.INSURANCE,
    "contract_signed": DocumentType.CONTRACT,
}
NOTES: dict[str, str] = {
    "bank_details": "Payout account confirmed by the partner's finance team.",
    "sales_training": "Sales team completed the product training (12 people).",
    "api_credentials": "Sandbox and production API keys issued.",
    "test_traffic": "Test traffic passed: 2,000 sessions without errors.",
    "integration_test": "End-to-end integration test passed in the staging network.",
    "site_survey": "Site survey accepted by network engineering.",
    "final_settlement": "Final statement paid.",
}
# Answers that give each risk level (see partners.services.onboarding.risk_score).
RISK_ANSWERS: dict[str, tuple[int, int, int, int, int]] = {
    RiskLevel.LOW: (1, 2, 1, 2, 2),
    RiskLevel.MEDIUM: (2, 3, 2, 3, 2),
    RiskLevel.HIGH: (3, 4, 3, 4, 3),
    RiskLevel.CRITICAL: (4, 4, 5, 4, 3),
}
CATEGORIES = ("financial_position", "track_record", "compliance", "security", "strategic_fit")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def lifecycle_path(partner: Partner) -> list[str]:
    """The statuses a partner went through to reach its current one, oldest first."""
    status = partner.status
    if status in PIPELINE:
        return list(PIPELINE[: PIPELINE.index(PartnerStatus(status)) + 1])
    if status == S.REJECTED:
        # Rejected during vetting or due diligence (chosen per partner, deterministically).
        stop = 2 if _rng(partner).random() < 0.5 else 3
        return [*PIPELINE[:stop], S.REJECTED]
    after = {
        S.ACTIVE: [S.ACTIVE],
        S.SUSPENDED: [S.ACTIVE, S.SUSPENDED],
        S.OFFBOARDING: [S.ACTIVE, S.OFFBOARDING],
        S.EXITED: [S.ACTIVE, S.OFFBOARDING, S.EXITED],
    }[PartnerStatus(status)]
    return [*PIPELINE, *after]


def _rng(partner: Partner) -> random.Random:
    return random.Random(f"{partner.tenant_id}:{partner.legal_name}")  # noqa: S311 - demo data


def load(tenant: Tenant) -> None:
    """Idempotent: a second run changes nothing."""
    staff = _staff_user(tenant)
    now = timezone.now()
    partners = Partner.objects.select_related("partner_type", "account_owner").order_by("id")
    for partner in partners:
        path = lifecycle_path(partner)
        history = list(
            StatusTransition.objects.filter(partner=partner)
            .order_by("at", "id")
            .values_list("to_status", flat=True)
        )
        if history == path:
            continue
        actor = partner.account_owner or staff
        checklist_instantiate(partner=partner, kind=ChecklistKind.ONBOARDING)
        arrivals = _history(partner, path, actor=actor, now=now)
        if S.DUE_DILIGENCE in arrivals:
            _risk(partner, arrivals, actor=actor)
        _steps(partner, arrivals, actor=actor, kind=ChecklistKind.ONBOARDING)
        if S.OFFBOARDING in arrivals:
            checklist_instantiate(partner=partner, kind=ChecklistKind.OFFBOARDING)
            _steps(partner, arrivals, actor=actor, kind=ChecklistKind.OFFBOARDING)


def _staff_user(tenant: Tenant) -> User | None:
    membership = (
        Membership.objects.filter(role__in=[Role.PARTNER_MANAGER, Role.ADMIN])
        .select_related("user")
        .order_by("role", "id")
        .first()
    )
    return membership.user if membership else None


def _history(
    partner: Partner, path: list[str], *, actor: User | None, now: datetime
) -> dict[str, datetime]:
    """(Re)write the partner's transitions along ``path`` with back-dated times; returns when
    the partner arrived in each status."""
    rng = _rng(partner)
    durations = [rng.randint(*STAGE_DAYS[status]) for status in path[:-1]]
    so_far = rng.randint(1, 20) if path[-1] in PIPELINE else rng.randint(20, 200)
    at = now - timedelta(days=sum(durations) + so_far, hours=rng.randint(0, 8))
    StatusTransition.objects.filter(partner=partner).delete()
    arrivals: dict[str, datetime] = {}
    previous = ""
    for index, status in enumerate(path):
        comment = _comment(partner, previous, status)
        transition = StatusTransition(
            partner=partner,
            from_status=previous,
            to_status=status,
            actor=None if index == 0 else actor,
            comment=comment,
        )
        transition.full_clean(exclude=["tenant", "partner", "actor"])
        transition.save()
        StatusTransition.objects.filter(pk=transition.pk).update(at=at)
        arrivals[status] = at
        previous = status
        if index < len(durations):
            at += timedelta(days=durations[index], hours=rng.randint(0, 6))
    first = arrivals[path[0]]
    Partner.objects.filter(pk=partner.pk).update(
        status_changed_at=arrivals[path[-1]], created_at=first
    )
    return arrivals


def _comment(partner: Partner, previous: str, status: str) -> str:
    if not previous:
        return "Application received."
    if status == S.REJECTED:
        return f"Reason: {partner.rejection_reason or 'Not a fit for the programme.'}"
    return {
        S.VETTING: "Application complete; vetting started.",
        S.DUE_DILIGENCE: "Vetting passed.",
        S.CONTRACTING: "Due diligence passed; contract drafted.",
        S.INTEGRATION: "Agreement signed.",
        S.ACTIVE: "All onboarding steps done.",
        S.SUSPENDED: "Suspended pending an open dispute.",
        S.OFFBOARDING: "Partnership ends; offboarding started.",
        S.EXITED: "Offboarding completed.",
    }.get(PartnerStatus(status), "")


def _due(step: ChecklistStep, arrivals: dict[str, datetime]) -> datetime | None:
    """When the step was done for a partner with these arrivals; None if not yet."""
    if step.kind == ChecklistKind.OFFBOARDING:
        if S.EXITED in arrivals:
            return arrivals[S.EXITED] - timedelta(days=1)
        if step.key == "final_settlement" and S.OFFBOARDING in arrivals:
            return arrivals[S.OFFBOARDING] + timedelta(days=2)
        return None
    stage = DONE_WHEN_REACHING.get(step.key, S.ACTIVE)
    if stage in arrivals:
        return arrivals[stage] - timedelta(hours=6)
    return None


def _steps(
    partner: Partner, arrivals: dict[str, datetime], *, actor: User | None, kind: str
) -> None:
    waiting = WAITING_FOR_PARTNER.get(partner.trading_name, set())
    portal_user = PartnerUser.objects.filter(partner=partner).select_related("user").first()
    for step in ChecklistStep.objects.filter(partner=partner, kind=kind, state="pending"):
        done_at = _due(step, arrivals)
        if done_at is None or step.key in waiting:
            continue
        by_partner = step.completed_by_party == Party.PARTNER
        # Partner steps: by its portal user when it has one (the portal demo adds them later).
        user = (portal_user.user if portal_user else None) if by_partner else actor
        document = None
        if step.evidence == Evidence.DOCUMENT:
            document = _document(partner, step, user or actor, done_at)
        if not step.mandatory and step.key == "pos_setup":
            state, note = ChecklistStep.State.WAIVED, "Online-only reseller: no shops."
        else:
            state = ChecklistStep.State.DONE
            note = NOTES.get(step.key, "") if step.evidence != Evidence.DOCUMENT else ""
            if step.evidence == Evidence.NOTE and not note:
                note = f"{step.title}: checked."
        step.state = state
        step.note = note
        step.document = document
        step.completed_by = user
        step.completed_at = done_at
        step.full_clean(exclude=["tenant", "partner", "document", "completed_by"])
        step.save()


def _document(
    partner: Partner, step: ChecklistStep, user: User | None, at: datetime
) -> Document | None:
    doc_type = DOC_TYPES.get(step.key, DocumentType.OTHER)
    title = f"{step.title}: {partner}"
    existing = Document.objects.filter(partner=partner, doc_type=doc_type, title=title).first()
    if existing is not None:
        return existing
    if user is None:
        return None
    upload = SimpleUploadedFile(f"{step.key}.pdf", PDF, content_type="application/pdf")
    document = document_upload(
        partner=partner, upload=upload, doc_type=doc_type, uploaded_by=user, title=title
    )
    Document.objects.filter(pk=document.pk).update(uploaded_at=at)
    return document


def _risk(partner: Partner, arrivals: dict[str, datetime], *, actor: User | None) -> None:
    if RiskAssessment.objects.filter(partner=partner).exists():
        return
    level = partner.risk_level or (
        RiskLevel.LOW if _rng(partner).random() < 0.6 else RiskLevel.MEDIUM
    )
    answers = dict(zip(CATEGORIES, RISK_ANSWERS[level], strict=True))
    result = risk_score(answers)
    assessment = RiskAssessment(
        partner=partner,
        answers=answers,
        score=result.score,
        risk_level=result.level,
        notes="Due-diligence questionnaire reviewed with the partner.",
        assessed_by=actor,
    )
    assessment.full_clean(exclude=["tenant", "partner", "assessed_by"])
    assessment.save()
    at = arrivals[S.DUE_DILIGENCE] + timedelta(days=3)
    RiskAssessment.objects.filter(pk=assessment.pk).update(assessed_at=at)
    Partner.objects.filter(pk=partner.pk).update(risk_level=result.level)
    step = ChecklistStep.objects.filter(
        partner=partner, key="risk_assessment", state=ChecklistStep.State.PENDING
    ).first()
    if step is not None:
        step.state = ChecklistStep.State.DONE
        step.note = f"Risk assessment: score {result.score}, {result.level.label.lower()} risk."
        step.completed_by = actor
        step.completed_at = at
        step.save()
