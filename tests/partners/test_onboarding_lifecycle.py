"""The partner lifecycle state machine: allowed and refused transitions, checklist gates,
history, notifications, and onboarding_start / checklist_instantiate."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Notification,
    Partner,
    PartnerStatus,
    PartnerType,
    StatusTransition,
)
from partners.services.onboarding import (
    ALLOWED_TRANSITIONS,
    checklist_instantiate,
    checklist_template_item_create,
    onboarding_start,
    partner_transition,
)
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

S = PartnerStatus
ALLOWED_PAIRS = sorted(
    (str(source), str(target))
    for source, targets in ALLOWED_TRANSITIONS.items()
    for target in targets
)
FORBIDDEN_PAIRS = [
    (S.APPLIED, S.ACTIVE),
    (S.APPLIED, S.CONTRACTING),
    (S.VETTING, S.APPLIED),
    (S.DUE_DILIGENCE, S.VETTING),
    (S.INTEGRATION, S.SUSPENDED),
    (S.ACTIVE, S.APPLIED),
    (S.ACTIVE, S.REJECTED),
    (S.ACTIVE, S.EXITED),
    (S.SUSPENDED, S.EXITED),
    (S.OFFBOARDING, S.ACTIVE),
    (S.REJECTED, S.VETTING),
    (S.EXITED, S.ACTIVE),
    (S.APPLIED, S.APPLIED),
]


def _complete(partner: Partner, kind: str) -> None:
    ChecklistStep.objects.filter(partner=partner, kind=kind).update(state=ChecklistStep.State.DONE)


def _partner(status: str, **kwargs) -> Partner:
    partner = PartnerFactory(status=status, **kwargs)
    onboarding_start(partner=partner, actor=None)
    return partner


def test_the_lifecycle_table_matches_the_documented_rules() -> None:
    pipeline = [S.APPLIED, S.VETTING, S.DUE_DILIGENCE, S.CONTRACTING, S.INTEGRATION, S.ACTIVE]
    for here, following in itertools.pairwise(pipeline):
        assert following in ALLOWED_TRANSITIONS[here]
        assert S.REJECTED in ALLOWED_TRANSITIONS[here]  # rejected from any pre-active stage
    assert ALLOWED_TRANSITIONS[S.ACTIVE] == {S.SUSPENDED, S.OFFBOARDING}
    assert ALLOWED_TRANSITIONS[S.SUSPENDED] == {S.ACTIVE, S.OFFBOARDING}
    assert ALLOWED_TRANSITIONS[S.OFFBOARDING] == {S.EXITED}
    assert ALLOWED_TRANSITIONS[S.REJECTED] == frozenset()
    assert ALLOWED_TRANSITIONS[S.EXITED] == frozenset()
    assert set(ALLOWED_TRANSITIONS) == set(PartnerStatus)


def test_every_allowed_transition_is_recorded_with_who_when_and_comment(
    personas, as_tenant_a
) -> None:
    # One loop rather than 13 parametrized tests: the personas fixture dominates the runtime.
    for source, target in ALLOWED_PAIRS:
        partner = _partner(source)
        if target == S.ACTIVE:
            _complete(partner, ChecklistKind.ONBOARDING)
        if target == S.EXITED:
            checklist_instantiate(partner=partner, kind=ChecklistKind.OFFBOARDING)
            _complete(partner, ChecklistKind.OFFBOARDING)
        before = partner.status_changed_at

        transition = partner_transition(
            partner=partner,
            to_status=target,
            actor=personas.a_manager,
            comment="Looks good.",
            reason="Not a fit." if target == S.REJECTED else "",
        )

        partner.refresh_from_db()
        pair = f"{source} -> {target}"
        assert partner.status == target, pair
        assert partner.status_changed_at > before, pair
        assert (transition.from_status, transition.to_status) == (source, target), pair
        assert transition.actor == personas.a_manager, pair
        assert transition.comment.startswith("Looks good."), pair
        assert StatusTransition.objects.filter(partner=partner).count() == 2, pair


def test_forbidden_transitions_name_both_statuses_and_change_nothing(personas, as_tenant_a) -> None:
    for source, target in FORBIDDEN_PAIRS:
        partner = _partner(source)
        before = (partner.status, partner.status_changed_at)

        with pytest.raises(ValidationError) as error:
            partner_transition(
                partner=partner, to_status=target, actor=personas.a_manager, reason="whatever"
            )

        message = " ".join(error.value.message_dict["to_status"])
        pair = f"{source} -> {target}"
        assert f"from '{S(source).label}' to '{S(target).label}'" in message, pair
        partner.refresh_from_db()
        assert (partner.status, partner.status_changed_at) == before, pair
        assert StatusTransition.objects.filter(partner=partner).count() == 1, pair


def test_the_error_lists_the_statuses_that_are_allowed(personas, as_tenant_a) -> None:
    partner = _partner(S.APPLIED)
    with pytest.raises(ValidationError) as error:
        partner_transition(partner=partner, to_status=S.ACTIVE, actor=personas.a_manager)
    assert "Allowed from 'Applied': 'Vetting', 'Rejected'." in str(error.value)


def test_an_unknown_status_is_refused(personas, as_tenant_a) -> None:
    partner = _partner(S.APPLIED)
    with pytest.raises(ValidationError, match="Unknown status 'approved'"):
        partner_transition(partner=partner, to_status="approved", actor=personas.a_manager)


def test_rejection_needs_a_reason_and_stores_it(personas, as_tenant_a) -> None:
    partner = _partner(S.VETTING)
    with pytest.raises(ValidationError) as error:
        partner_transition(partner=partner, to_status=S.REJECTED, actor=personas.a_manager)
    assert error.value.message_dict == {
        "reason": ["Rejecting a partner in 'Vetting' needs a reason."]
    }
    partner.refresh_from_db()
    assert partner.status == S.VETTING

    transition = partner_transition(
        partner=partner, to_status=S.REJECTED, actor=personas.a_manager, reason="  No licence. "
    )
    partner.refresh_from_db()
    assert partner.status == S.REJECTED
    assert partner.rejection_reason == "No licence."
    assert transition.comment == "Reason: No licence."


def test_active_is_refused_while_mandatory_steps_are_open_and_names_them(
    personas, as_tenant_a
) -> None:
    partner = _partner(S.INTEGRATION)
    steps = ChecklistStep.objects.filter(partner=partner, kind=ChecklistKind.ONBOARDING)
    steps.exclude(key__in=["tax_form", "test_traffic"]).update(state=ChecklistStep.State.DONE)

    with pytest.raises(ValidationError) as error:
        partner_transition(partner=partner, to_status=S.ACTIVE, actor=personas.a_manager)

    message = error.value.message_dict["to_status"][0]
    assert "from 'Integration' to 'Active'" in message
    assert "Missing: 'Tax form', 'Test traffic passed'." in message
    partner.refresh_from_db()
    assert partner.status == S.INTEGRATION
    assert StatusTransition.objects.filter(partner=partner).count() == 1


def test_waived_and_optional_steps_do_not_block_active(personas, as_tenant_a) -> None:
    channel = PartnerType.objects.get(key="channel_partner")
    partner = _partner(S.INTEGRATION, partner_type=channel)
    steps = ChecklistStep.objects.filter(partner=partner, kind=ChecklistKind.ONBOARDING)
    assert steps.get(key="pos_setup").mandatory is False  # left pending
    steps.filter(mandatory=True).exclude(key="tax_form").update(state=ChecklistStep.State.DONE)
    steps.filter(key="tax_form").update(state=ChecklistStep.State.WAIVED)

    partner_transition(partner=partner, to_status=S.ACTIVE, actor=personas.a_manager)
    partner.refresh_from_db()
    assert partner.status == S.ACTIVE


def test_offboarding_creates_the_offboarding_checklist_and_exit_needs_it_done(
    personas, as_tenant_a
) -> None:
    partner = _partner(S.ACTIVE)
    partner_transition(partner=partner, to_status=S.OFFBOARDING, actor=personas.a_manager)
    keys = list(
        ChecklistStep.objects.filter(partner=partner, kind=ChecklistKind.OFFBOARDING).values_list(
            "key", flat=True
        )
    )
    assert keys == ["final_settlement", "access_revoked", "documents_archived"]

    with pytest.raises(ValidationError, match="Missing: 'Final settlement paid'"):
        partner_transition(partner=partner, to_status=S.EXITED, actor=personas.a_manager)

    _complete(partner, ChecklistKind.OFFBOARDING)
    partner_transition(partner=partner, to_status=S.EXITED, actor=personas.a_manager)
    partner.refresh_from_db()
    assert partner.status == S.EXITED
    # Exited partners keep their whole history.
    assert list(
        StatusTransition.objects.filter(partner=partner).values_list("to_status", flat=True)
    ) == [S.ACTIVE, S.OFFBOARDING, S.EXITED]


def test_a_transition_notifies_the_account_owner_and_the_partner_users(
    personas, as_tenant_a
) -> None:
    partner = personas.a_partner
    partner.account_owner = personas.a_admin
    partner.save()
    transition = partner_transition(
        partner=partner, to_status=S.SUSPENDED, actor=personas.a_manager, comment="Unpaid fees."
    )

    rows = Notification.objects.filter(dedup_key=f"status:{transition.pk}")
    assert {row.user for row in rows} == {personas.a_admin, personas.a_partner_user}
    assert all(row.kind == "partner_status_changed" and row.partner == partner for row in rows)
    staff = rows.get(user=personas.a_admin)
    assert staff.title == "Acme: Active → Suspended"
    assert staff.url == f"/partners/{partner.pk}/onboarding/"
    assert staff.body == "Unpaid fees."
    # The other partner's users hear nothing.
    assert not Notification.objects.exclude(partner=partner).exists()


def test_the_actor_is_not_notified_of_their_own_change(personas, as_tenant_a) -> None:
    partner = personas.a_other_partner
    partner.account_owner = personas.a_manager
    partner.save()
    partner_transition(partner=partner, to_status=S.SUSPENDED, actor=personas.a_manager)
    assert not Notification.objects.filter(user=personas.a_manager).exists()


def test_onboarding_start_records_the_first_entry_and_the_checklist_once(
    personas, as_tenant_a
) -> None:
    partner = PartnerFactory(status=S.APPLIED)
    onboarding_start(partner=partner, actor=personas.a_manager)
    onboarding_start(partner=partner, actor=personas.a_manager)

    history = list(StatusTransition.objects.filter(partner=partner))
    assert [(t.from_status, t.to_status, t.actor) for t in history] == [
        ("", S.APPLIED, personas.a_manager)
    ]
    keys = list(
        ChecklistStep.objects.filter(partner=partner)
        .order_by("position")
        .values_list("key", flat=True)
    )
    # The common steps first, then the content provider's own.
    assert keys == [
        "company_documents",
        "tax_form",
        "bank_details",
        "risk_assessment",
        "contract_signed",
        "content_licence",
        "api_credentials",
        "test_traffic",
    ]
    step = ChecklistStep.objects.get(partner=partner, key="content_licence")
    assert (step.completed_by_party, step.evidence, step.mandatory) == ("partner", "document", True)


def test_each_partner_type_gets_its_own_steps(personas, as_tenant_a) -> None:
    infra = PartnerType.objects.get(key="infrastructure_provider")
    partner = _partner(S.APPLIED, partner_type=infra)
    keys = set(ChecklistStep.objects.filter(partner=partner).values_list("key", flat=True))
    assert {"insurance", "site_survey"} <= keys
    assert not keys & {"content_licence", "api_credentials"}


def test_template_changes_affect_only_new_checklists(personas, as_tenant_a) -> None:
    partner = _partner(S.APPLIED)
    before = ChecklistStep.objects.filter(partner=partner).count()
    content = PartnerType.objects.get(key="content_provider")
    checklist_template_item_create(
        kind=ChecklistKind.ONBOARDING, partner_type=content, title="Content rating certificate"
    )
    ChecklistTemplateItem.objects.filter(key="tax_form").update(title="W-8 tax form")

    checklist_instantiate(partner=partner, kind=ChecklistKind.ONBOARDING)
    assert ChecklistStep.objects.filter(partner=partner).count() == before
    assert ChecklistStep.objects.get(partner=partner, key="tax_form").title == "Tax form"

    newcomer = _partner(S.APPLIED)
    steps = ChecklistStep.objects.filter(partner=newcomer)
    assert steps.count() == before + 1
    assert steps.get(key="tax_form").title == "W-8 tax form"
    assert steps.order_by("position").last().key == "content_rating_certificate"


def test_other_tenants_partners_cannot_be_moved(personas) -> None:
    from partnerhub.tenancy.context import tenant_context

    with tenant_context(personas.tenant_a), pytest.raises(Partner.DoesNotExist):
        partner_transition(
            partner=personas.b_partner, to_status=S.SUSPENDED, actor=personas.a_manager
        )
    with tenant_context(personas.tenant_b):
        assert Partner.objects.get(pk=personas.b_partner.pk).status == S.ACTIVE
