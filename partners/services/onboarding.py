"""Onboarding and offboarding: the partner lifecycle state machine, checklists, risk scoring.

Every rule of the lifecycle lives here (``ALLOWED_TRANSITIONS`` and ``partner_transition``);
pages, the API and the portal only call these services. See docs/onboarding.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from partnerhub.accounts.models import ApiToken, User
from partnerhub.accounts.roles import Perm, Role, role_has_perm
from partnerhub.accounts.services import api_token_revoke
from partnerhub.tenancy.models import Membership
from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Document,
    Partner,
    PartnerStatus,
    PartnerType,
    PartnerUser,
    RiskAssessment,
    RiskLevel,
    StatusTransition,
)
from partners.models.onboarding import Evidence, Party
from partners.services.notifications import notify

S = PartnerStatus

# The onboarding pipeline, in order; a partner moves one stage forward at a time.
PIPELINE: tuple[PartnerStatus, ...] = (
    S.APPLIED,
    S.VETTING,
    S.DUE_DILIGENCE,
    S.CONTRACTING,
    S.INTEGRATION,
)
PRE_ACTIVE = frozenset(PIPELINE)

ALLOWED_TRANSITIONS: dict[PartnerStatus, frozenset[PartnerStatus]] = {
    S.APPLIED: frozenset({S.VETTING, S.REJECTED}),
    S.VETTING: frozenset({S.DUE_DILIGENCE, S.REJECTED}),
    S.DUE_DILIGENCE: frozenset({S.CONTRACTING, S.REJECTED}),
    S.CONTRACTING: frozenset({S.INTEGRATION, S.REJECTED}),
    S.INTEGRATION: frozenset({S.ACTIVE, S.REJECTED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.OFFBOARDING}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.OFFBOARDING}),
    S.OFFBOARDING: frozenset({S.EXITED}),
    S.REJECTED: frozenset(),
    S.EXITED: frozenset(),
}

# Display order of the next steps offered from a stage (forward first, reject last).
_ORDER = list(PartnerStatus)

# Which checklist may still change in which partner status: the onboarding checklist until the
# partner leaves the programme, the offboarding checklist only while offboarding.
CHECKLIST_OPEN: dict[str, frozenset[PartnerStatus]] = {
    ChecklistKind.ONBOARDING: PRE_ACTIVE | {S.ACTIVE, S.SUSPENDED},
    ChecklistKind.OFFBOARDING: frozenset({S.OFFBOARDING}),
}

STEP_DONE_STATES = (ChecklistStep.State.DONE, ChecklistStep.State.WAIVED)


def status_label(value: str) -> str:
    try:
        return str(PartnerStatus(value).label)
    except ValueError:
        return value or "(none)"


def allowed_next(status: str) -> list[PartnerStatus]:
    """The statuses a partner in ``status`` may move to, in lifecycle order."""
    try:
        current = PartnerStatus(status)
    except ValueError:
        return []
    return sorted(ALLOWED_TRANSITIONS[current], key=_ORDER.index)


def _is_admin(user: User | None) -> bool:
    if user is None:
        return False
    membership = Membership.objects.filter(user=user).only("role").first()
    return membership is not None and role_has_perm(membership.role, Perm.TENANT_MANAGE)


def _open_steps(partner: Partner, kind: str) -> list[ChecklistStep]:
    """Mandatory steps of ``kind`` neither done nor waived, in checklist order."""
    return list(
        ChecklistStep.objects.filter(partner=partner, kind=kind, mandatory=True)
        .exclude(state__in=STEP_DONE_STATES)
        .order_by("position", "id")
    )


def _staff_url(partner: Partner) -> str:
    return reverse("partners:onboarding-panel", kwargs={"pk": partner.pk})


def _portal_url() -> str:
    return reverse("portal:home")


# --- Checklists ---------------------------------------------------------------------------------


def checklist_template_for(
    *, partner_type: PartnerType | None, kind: str
) -> list[ChecklistTemplateItem]:
    """The template items a partner of ``partner_type`` gets: common ones, then its type's."""
    items = ChecklistTemplateItem.objects.filter(kind=kind)
    if partner_type is None:
        items = items.filter(partner_type__isnull=True)
    else:
        items = items.filter(partner_type__isnull=True) | items.filter(partner_type=partner_type)
    return list(items.order_by("position", "id"))


@transaction.atomic
def checklist_instantiate(*, partner: Partner, kind: str) -> list[ChecklistStep]:
    """Copy the tenant's template for the partner's type into the partner's own checklist.

    Idempotent: a partner that already has steps of ``kind`` keeps them unchanged, so later
    template edits only affect checklists created afterwards.
    """
    if kind not in ChecklistKind.values:
        raise ValidationError(f"Unknown checklist kind {kind!r}.")
    existing = list(ChecklistStep.objects.filter(partner=partner, kind=kind))
    if existing:
        return existing
    steps: list[ChecklistStep] = []
    seen: set[str] = set()
    for item in checklist_template_for(partner_type=partner.partner_type, kind=kind):
        if item.key in seen:
            continue
        seen.add(item.key)
        step = ChecklistStep(
            partner=partner,
            kind=kind,
            key=item.key,
            title=item.title,
            description=item.description,
            mandatory=item.mandatory,
            completed_by_party=item.completed_by,
            evidence=item.evidence,
            position=item.position,
        )
        step.full_clean(exclude=["tenant", "partner"], validate_constraints=False)
        step.save()
        steps.append(step)
    return steps


def _check_step_editable(step: ChecklistStep, partner: Partner) -> None:
    if partner.status not in CHECKLIST_OPEN[step.kind]:
        raise ValidationError(
            f"The {step.get_kind_display().lower()} checklist of a partner in status "
            f"'{status_label(partner.status)}' cannot be changed.",
            code="checklist_closed",
        )


def _lock_step(step: ChecklistStep) -> tuple[ChecklistStep, Partner]:
    # The partner row is locked as in partner_transition, so a step cannot be reopened while
    # a concurrent transition checks the checklist.
    partner = (
        Partner.objects.select_for_update(of=("self",))
        .select_related("account_owner")
        .get(pk=step.partner_id)
    )
    locked = ChecklistStep.objects.select_for_update().get(pk=step.pk)
    return locked, partner


def _copy_step(target: ChecklistStep, source: ChecklistStep) -> None:
    for field in ("state", "note", "document_id", "completed_by_id", "completed_at"):
        setattr(target, field, getattr(source, field))


@transaction.atomic
def checklist_step_complete(
    *,
    step: ChecklistStep,
    actor: User | None,
    party: str,
    note: str = "",
    document: Document | None = None,
) -> ChecklistStep:
    """Mark a step done by CSP staff (``party="csp"``) or the partner (``party="partner"``).

    Who may complete it (``completed_by_party``) and the evidence it needs are enforced here.
    """
    if party not in (Party.CSP, Party.PARTNER):
        raise ValidationError({"party": f"Party must be 'csp' or 'partner', not {party!r}."})
    locked, partner = _lock_step(step)
    _check_step_editable(locked, partner)
    if locked.state != ChecklistStep.State.PENDING:
        raise ValidationError(
            f"The step '{locked.title}' is already {locked.get_state_display().lower()}; "
            "reopen it first.",
            code="step_not_pending",
        )
    if locked.completed_by_party != Party.EITHER and locked.completed_by_party != party:
        who = "the partner" if locked.completed_by_party == Party.PARTNER else "CSP staff"
        raise ValidationError(
            f"The step '{locked.title}' can only be completed by {who}.", code="wrong_party"
        )
    note = note.strip()
    if locked.evidence == Evidence.NOTE and not note:
        raise ValidationError(
            {"note": f"The step '{locked.title}' needs a note as evidence."}, code="evidence"
        )
    if locked.evidence == Evidence.DOCUMENT and document is None:
        raise ValidationError(
            {"document": f"The step '{locked.title}' needs a document of the partner."},
            code="evidence",
        )
    if document is not None and document.partner_id != partner.pk:
        raise ValidationError(
            {"document": "The document does not belong to this partner."}, code="evidence"
        )
    locked.state = ChecklistStep.State.DONE
    locked.note = note
    locked.document = document
    locked.completed_by = actor
    locked.completed_at = timezone.now()
    locked.full_clean(exclude=["tenant", "partner", "document", "completed_by"])
    locked.save()
    _copy_step(step, locked)
    owner = partner.account_owner
    if party == Party.PARTNER and owner is not None:
        notify(
            users=[owner],
            kind="step_completed",
            title=f"{partner}: step completed: {locked.title}",
            body=note,
            url=_staff_url(partner),
            partner=partner,
            dedup_key=f"step_completed:{locked.pk}:{locked.completed_at.isoformat()}",
        )
    return locked


@transaction.atomic
def checklist_step_reopen(
    *, step: ChecklistStep, actor: User | None, comment: str = ""
) -> ChecklistStep:
    """Put a done or waived step back to pending (CSP staff); the audit trail keeps the old."""
    locked, partner = _lock_step(step)
    _check_step_editable(locked, partner)
    if locked.state == ChecklistStep.State.PENDING:
        raise ValidationError(f"The step '{locked.title}' is already pending.", code="pending")
    locked.state = ChecklistStep.State.PENDING
    locked.note = comment.strip()
    locked.document = None
    locked.completed_by = None
    locked.completed_at = None
    locked.full_clean(exclude=["tenant", "partner", "document", "completed_by"])
    locked.save()
    _copy_step(step, locked)
    return locked


@transaction.atomic
def checklist_step_waive(
    *, step: ChecklistStep, actor: User | None, comment: str = ""
) -> ChecklistStep:
    """Skip a step (CSP staff). Optional steps: any partner manager. Mandatory steps: only a
    tenant admin, and only with a comment saying why (it is the one way around a requirement).
    """
    locked, partner = _lock_step(step)
    _check_step_editable(locked, partner)
    if locked.state != ChecklistStep.State.PENDING:
        raise ValidationError(
            f"The step '{locked.title}' is already {locked.get_state_display().lower()}.",
            code="step_not_pending",
        )
    comment = comment.strip()
    if locked.mandatory:
        if not _is_admin(actor):
            raise ValidationError(
                f"The step '{locked.title}' is mandatory: only a tenant admin may waive it.",
                code="waive_mandatory",
            )
        if not comment:
            raise ValidationError(
                {"comment": f"Waiving the mandatory step '{locked.title}' needs a comment."},
                code="waive_comment",
            )
    locked.state = ChecklistStep.State.WAIVED
    locked.note = comment
    locked.document = None
    locked.completed_by = actor
    locked.completed_at = timezone.now()
    locked.full_clean(exclude=["tenant", "partner", "document", "completed_by"])
    locked.save()
    _copy_step(step, locked)
    return locked


# --- Lifecycle ----------------------------------------------------------------------------------


@transaction.atomic
def onboarding_start(*, partner: Partner, actor: User | None) -> Partner:
    """Start a new partner's lifecycle: the first history entry and its onboarding checklist.

    Called right after a partner is created (registry, public application). Idempotent.
    """
    if not StatusTransition.objects.filter(partner=partner).exists():
        transition = StatusTransition(
            partner=partner,
            from_status="",
            to_status=partner.status,
            actor=actor,
            comment="Partner created.",
        )
        transition.full_clean(exclude=["tenant", "partner", "actor"])
        transition.save()
    checklist_instantiate(partner=partner, kind=ChecklistKind.ONBOARDING)
    return partner


def _missing_titles(steps: Iterable[ChecklistStep]) -> str:
    return ", ".join(f"'{s.title}'" for s in steps)


@transaction.atomic
def partner_transition(
    *,
    partner: Partner,
    to_status: str,
    actor: User | None,
    comment: str = "",
    reason: str = "",
) -> StatusTransition:
    """Move a partner to ``to_status`` if the lifecycle allows it, and record who, when, why.

    The partner row is locked, so two concurrent transitions cannot both pass the checks.
    """
    locked = (
        Partner.objects.select_for_update(of=("self",))
        .select_related("account_owner")
        .get(pk=partner.pk)
    )
    from_status = locked.status
    try:
        target = PartnerStatus(to_status)
    except ValueError:
        raise ValidationError(
            {"to_status": f"Unknown status {to_status!r}."}, code="unknown_status"
        ) from None
    allowed = ALLOWED_TRANSITIONS[PartnerStatus(from_status)]
    if target not in allowed:
        options = ", ".join(f"'{status_label(s)}'" for s in allowed_next(from_status))
        raise ValidationError(
            {
                "to_status": (
                    f"A partner cannot go from '{status_label(from_status)}' to "
                    f"'{target.label}'. "
                    + (
                        f"Allowed from '{status_label(from_status)}': {options}."
                        if options
                        else f"'{status_label(from_status)}' is final."
                    )
                )
            },
            code="invalid_transition",
        )
    comment = comment.strip()
    reason = reason.strip()
    if target == S.REJECTED and not reason:
        raise ValidationError(
            {"reason": f"Rejecting a partner in '{status_label(from_status)}' needs a reason."},
            code="reason_required",
        )
    if target == S.ACTIVE:
        checklist_instantiate(partner=locked, kind=ChecklistKind.ONBOARDING)
        missing = _open_steps(locked, ChecklistKind.ONBOARDING)
        if missing:
            raise ValidationError(
                {
                    "to_status": (
                        f"A partner cannot go from '{status_label(from_status)}' to 'Active' "
                        "before every mandatory onboarding step is done or waived. Missing: "
                        f"{_missing_titles(missing)}."
                    )
                },
                code="checklist_incomplete",
            )
    if target == S.EXITED:
        missing = _open_steps(locked, ChecklistKind.OFFBOARDING)
        if missing:
            raise ValidationError(
                {
                    "to_status": (
                        "A partner cannot go from 'Offboarding' to 'Exited' before every "
                        "mandatory offboarding step is done or waived. Missing: "
                        f"{_missing_titles(missing)}."
                    )
                },
                code="checklist_incomplete",
            )
    if target == S.OFFBOARDING:
        checklist_instantiate(partner=locked, kind=ChecklistKind.OFFBOARDING)

    now = timezone.now()
    text = comment
    if target == S.REJECTED:
        text = "\n\n".join(part for part in (comment, f"Reason: {reason}") if part)
    transition = StatusTransition(
        partner=locked, from_status=from_status, to_status=target, actor=actor, comment=text
    )
    transition.full_clean(exclude=["tenant", "partner", "actor"])
    transition.save()

    locked.status = target
    locked.status_changed_at = now
    if target == S.REJECTED:
        locked.rejection_reason = reason
    locked.full_clean(validate_constraints=False)
    locked.save(update_fields=["status", "status_changed_at", "rejection_reason", "updated_at"])
    for field in ("status", "status_changed_at", "rejection_reason", "updated_at"):
        setattr(partner, field, getattr(locked, field))

    _notify_status_change(partner=locked, transition=transition, actor=actor)
    if target == S.EXITED:
        _portal_access_end(partner=locked)
    return transition


def _portal_access_end(*, partner: Partner) -> None:
    """An exited partner's users can no longer sign in to this tenant: their ``partner``
    membership here is removed and their API tokens here are revoked. The partner-user links
    stay, so the history still shows who did what."""
    user_ids = list(PartnerUser.objects.filter(partner=partner).values_list("user_id", flat=True))
    if not user_ids:
        return
    for token in ApiToken.objects.filter(user_id__in=user_ids, revoked_at__isnull=True):
        api_token_revoke(token=token)
    # One by one, so the audit trail records each removed membership.
    for membership in Membership.objects.filter(user_id__in=user_ids, role=Role.PARTNER):
        membership.delete()


def _notify_status_change(
    *, partner: Partner, transition: StatusTransition, actor: User | None
) -> None:
    """Tell the account owner (staff link) and the partner's users (portal link); never the actor
    about their own change."""
    title = (
        f"{partner}: {status_label(transition.from_status)} → {status_label(transition.to_status)}"
    )
    key = f"status:{transition.pk}"
    actor_id = actor.pk if actor else None
    owner = partner.account_owner
    if owner is not None and owner.pk != actor_id:
        notify(
            users=[owner],
            kind="partner_status_changed",
            title=title,
            body=transition.comment,
            url=_staff_url(partner),
            partner=partner,
            dedup_key=key,
        )
    partner_users = [
        link.user
        for link in PartnerUser.objects.filter(partner=partner).select_related("user")
        if link.user_id != actor_id
    ]
    if partner_users:
        notify(
            users=partner_users,
            kind="partner_status_changed",
            title=f"Your partnership status: {status_label(transition.to_status)}",
            body=transition.comment,
            url=_portal_url(),
            partner=partner,
            dedup_key=key,
        )


# --- Risk assessment ----------------------------------------------------------------------------

RISK_CATEGORIES: tuple[str, ...] = (
    "financial_position",
    "track_record",
    "compliance",
    "security",
    "strategic_fit",
)
RISK_CATEGORY_LABELS: dict[str, str] = {
    "financial_position": "Financial position",
    "track_record": "Track record",
    "compliance": "Compliance",
    "security": "Security",
    "strategic_fit": "Strategic fit",
}
# Weights sum to 1, so the score stays on the 1..5 scale of the answers.
RISK_WEIGHTS: dict[str, Decimal] = {
    "financial_position": Decimal("0.25"),
    "track_record": Decimal("0.15"),
    "compliance": Decimal("0.25"),
    "security": Decimal("0.25"),
    "strategic_fit": Decimal("0.10"),
}
# Upper bounds (exclusive) of each level's score; at or above the last bound: critical.
RISK_THRESHOLDS: tuple[tuple[Decimal, RiskLevel], ...] = (
    (Decimal("2.00"), RiskLevel.LOW),
    (Decimal("3.00"), RiskLevel.MEDIUM),
    (Decimal("4.00"), RiskLevel.HIGH),
)
RISK_MIN_SCORE, RISK_MAX_SCORE = 1, 5
# A 5 in one of these is a red flag that good marks elsewhere cannot average away.
RISK_RED_FLAG_CATEGORIES = ("financial_position", "compliance", "security")
RISK_ASSESSMENT_STAGES = frozenset({S.DUE_DILIGENCE, S.CONTRACTING, S.INTEGRATION})
_LEVEL_ORDER = [RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL]


@dataclass(frozen=True)
class RiskResult:
    score: Decimal
    level: RiskLevel


def risk_score(answers: Mapping[str, Any]) -> RiskResult:
    """Weighted score (Decimal, 2 places) and level of validated answers.

    A 5 (the highest risk) in financial position, compliance or security lifts the level to
    at least high: a single red flag is not averaged away by good marks elsewhere.
    """
    validated = risk_answers_validate(answers)
    score = sum(
        (RISK_WEIGHTS[c] * Decimal(validated[c]) for c in RISK_CATEGORIES), Decimal("0")
    ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    level = RiskLevel.CRITICAL
    for bound, candidate in RISK_THRESHOLDS:
        if score < bound:
            level = candidate
            break
    red_flag = any(validated[c] == RISK_MAX_SCORE for c in RISK_RED_FLAG_CATEGORIES)
    if red_flag and _LEVEL_ORDER.index(level) < _LEVEL_ORDER.index(RiskLevel.HIGH):
        level = RiskLevel.HIGH
    return RiskResult(score=score, level=level)


def risk_answers_validate(answers: Mapping[str, Any]) -> dict[str, int]:
    """Every category exactly once, each an integer from 1 (low risk) to 5 (high risk)."""
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": "Answers must map each category to a score."})
    errors: list[str] = []
    unknown = sorted(set(answers) - set(RISK_CATEGORIES))
    missing = [c for c in RISK_CATEGORIES if c not in answers]
    if unknown:
        errors.append(f"Unknown categories: {', '.join(unknown)}.")
    if missing:
        errors.append(f"Missing categories: {', '.join(missing)}.")
    validated: dict[str, int] = {}
    for category in RISK_CATEGORIES:
        if category not in answers:
            continue
        value = answers[category]
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{category} must be a whole number from 1 to 5, not {value!r}.")
        elif not RISK_MIN_SCORE <= value <= RISK_MAX_SCORE:
            errors.append(f"{category} must be from 1 to 5, not {value}.")
        else:
            validated[category] = value
    if errors:
        raise ValidationError({"answers": errors}, code="risk_answers")
    return validated


@transaction.atomic
def risk_assessment_record(
    *, partner: Partner, answers: Mapping[str, Any], notes: str = "", actor: User | None
) -> RiskAssessment:
    """Score a due-diligence questionnaire, set the partner's risk level, and tick the
    'risk_assessment' checklist step (if the partner's checklist has it)."""
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    if locked.status not in RISK_ASSESSMENT_STAGES:
        raise ValidationError(
            "A risk assessment can be recorded from due diligence until integration; the "
            f"partner is in '{status_label(locked.status)}'.",
            code="risk_stage",
        )
    validated = risk_answers_validate(answers)
    result = risk_score(validated)
    assessment = RiskAssessment(
        partner=locked,
        answers=validated,
        score=result.score,
        risk_level=result.level,
        notes=notes.strip(),
        assessed_by=actor,
    )
    assessment.full_clean(exclude=["tenant", "partner", "assessed_by"])
    assessment.save()
    locked.risk_level = result.level
    locked.full_clean(validate_constraints=False)
    locked.save(update_fields=["risk_level", "updated_at"])
    partner.risk_level = locked.risk_level
    step = (
        ChecklistStep.objects.select_for_update()
        .filter(partner=locked, kind=ChecklistKind.ONBOARDING, key="risk_assessment")
        .first()
    )
    if step is not None and step.state == ChecklistStep.State.PENDING:
        step.state = ChecklistStep.State.DONE
        step.note = f"Risk assessment: score {result.score}, {result.level.label.lower()} risk." + (
            f" {assessment.notes}" if assessment.notes else ""
        )
        step.completed_by = actor
        step.completed_at = timezone.now()
        step.full_clean(exclude=["tenant", "partner", "document", "completed_by"])
        step.save()
    return assessment


# --- Checklist templates ------------------------------------------------------------------------

TEMPLATE_FIELDS = ("title", "description", "mandatory", "completed_by", "evidence", "position")
TYPE_POSITION_OFFSET = 100  # type-specific items follow the common ones


def _template_clean(item: ChecklistTemplateItem) -> None:
    if not item.key:
        item.key = slugify(item.title).replace("-", "_")[:60]
    if not item.key:
        raise ValidationError({"key": "Give the step a key (letters, digits, underscores)."})
    clashes = ChecklistTemplateItem.objects.filter(kind=item.kind, key=item.key)
    if item.partner_type_id is not None:
        # A type's step may not reuse a key of the common checklist, nor the type's own keys;
        # a common step's key must be free in every type (a partner gets both lists).
        clashes = clashes.filter(partner_type__isnull=True) | clashes.filter(
            partner_type_id=item.partner_type_id
        )
    if item.pk is not None:
        clashes = clashes.exclude(pk=item.pk)
    if clashes.exists():
        raise ValidationError(
            {"key": f"The {item.kind} checklist already has a step with the key '{item.key}'."},
            code="duplicate_key",
        )
    item.full_clean(exclude=["tenant", "partner_type"], validate_constraints=False)


@transaction.atomic
def checklist_template_item_create(
    *,
    kind: str,
    partner_type: PartnerType | None,
    title: str,
    key: str = "",
    description: str = "",
    mandatory: bool = True,
    completed_by: str = Party.EITHER,
    evidence: str = Evidence.NONE,
    position: int | None = None,
) -> ChecklistTemplateItem:
    """Add a step to the tenant's checklist template (all types or one); last by default."""
    if position is None:
        group = ChecklistTemplateItem.objects.filter(kind=kind, partner_type=partner_type)
        last = group.aggregate(last=Max("position"))["last"]
        offset = 0 if partner_type is None else TYPE_POSITION_OFFSET
        position = offset if last is None else last + 1
    item = ChecklistTemplateItem(
        kind=kind,
        partner_type=partner_type,
        key=key.strip(),
        title=title.strip(),
        description=description.strip(),
        mandatory=mandatory,
        completed_by=completed_by,
        evidence=evidence,
        position=position,
    )
    _template_clean(item)
    item.save()
    return item


@transaction.atomic
def checklist_template_item_update(
    *, item: ChecklistTemplateItem, **changes: Any
) -> ChecklistTemplateItem:
    """Change a template step; partners' existing checklists keep their copy."""
    allowed = {*TEMPLATE_FIELDS, "key", "kind", "partner_type"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    item = ChecklistTemplateItem.objects.select_for_update().get(pk=item.pk)
    for field, value in changes.items():
        setattr(item, field, value.strip() if isinstance(value, str) else value)
    _template_clean(item)
    item.save()
    return item


@transaction.atomic
def checklist_template_item_delete(*, item: ChecklistTemplateItem) -> None:
    """Remove a template step; partners' existing checklists keep their copy."""
    ChecklistTemplateItem.objects.filter(pk=item.pk).delete()


@transaction.atomic
def checklist_template_item_move(*, item: ChecklistTemplateItem, direction: str) -> None:
    """Swap a template step with its neighbour above ("up") or below ("down") in its list."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Direction must be 'up' or 'down'."})
    group = list(
        ChecklistTemplateItem.objects.select_for_update()
        .filter(kind=item.kind, partner_type_id=item.partner_type_id)
        .order_by("position", "id")
    )
    index = next(i for i, other in enumerate(group) if other.pk == item.pk)
    neighbour = index - 1 if direction == "up" else index + 1
    if not 0 <= neighbour < len(group):
        return
    base = min(other.position for other in group)
    group[index], group[neighbour] = group[neighbour], group[index]
    # Renumber the group so equal positions cannot make the order ambiguous.
    for offset, other in enumerate(group):
        if other.position != base + offset:
            other.position = base + offset
            other.save(update_fields=["position"])
