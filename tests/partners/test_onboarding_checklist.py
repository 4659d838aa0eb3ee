"""Checklist steps: who may complete them, the evidence they need, reopen and waive rules,
and the notification when the partner completes a step."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Notification,
    Partner,
    PartnerStatus,
    PartnerType,
)
from partners.services.documents import document_upload
from partners.services.onboarding import (
    checklist_step_complete,
    checklist_step_reopen,
    checklist_step_waive,
    checklist_template_item_create,
    checklist_template_item_move,
    checklist_template_item_update,
    onboarding_start,
)
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _started(status: str = PartnerStatus.DUE_DILIGENCE, **kwargs) -> Partner:
    partner = PartnerFactory(status=status, **kwargs)
    onboarding_start(partner=partner, actor=None)
    return partner


def _step(partner: Partner, key: str) -> ChecklistStep:
    return ChecklistStep.objects.get(partner=partner, key=key)


def _document(partner: Partner, user):
    upload = SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf")
    return document_upload(
        partner=partner, upload=upload, doc_type="content_licence", uploaded_by=user
    )


def test_the_partner_completes_its_step_with_a_document_and_the_owner_is_notified(
    personas, as_tenant_a
) -> None:
    partner = _started(account_owner=personas.a_manager)
    document = _document(partner, personas.a_partner_user)
    step = _step(partner, "content_licence")

    checklist_step_complete(
        step=step, actor=personas.a_partner_user, party="partner", document=document
    )

    step.refresh_from_db()
    assert step.state == ChecklistStep.State.DONE
    assert step.document == document
    assert step.completed_by == personas.a_partner_user
    assert step.completed_at is not None
    notification = Notification.objects.get(user=personas.a_manager)
    assert notification.kind == "step_completed"
    assert "Content licence" in notification.title
    assert notification.url == f"/partners/{partner.pk}/onboarding/"


def test_csp_staff_completing_a_step_notifies_nobody(personas, as_tenant_a) -> None:
    partner = _started(account_owner=personas.a_admin)
    checklist_step_complete(
        step=_step(partner, "api_credentials"),
        actor=personas.a_manager,
        party="csp",
        note="Keys sent.",
    )
    assert not Notification.objects.exists()


def test_a_partner_cannot_complete_a_csp_step_and_staff_cannot_complete_a_partner_step(
    personas, as_tenant_a
) -> None:
    partner = _started()
    with pytest.raises(
        ValidationError, match="'API credentials issued' can only be completed by CSP"
    ):
        checklist_step_complete(
            step=_step(partner, "api_credentials"),
            actor=personas.a_partner_user,
            party="partner",
            note="We got them",
        )
    document = _document(partner, personas.a_manager)
    with pytest.raises(
        ValidationError, match="'Content licence' can only be completed by the partner"
    ):
        checklist_step_complete(
            step=_step(partner, "content_licence"),
            actor=personas.a_manager,
            party="csp",
            document=document,
        )
    assert not ChecklistStep.objects.filter(partner=partner, state="done").exists()


def test_either_side_may_complete_an_either_step(personas, as_tenant_a) -> None:
    partner = _started()
    step = checklist_step_complete(
        step=_step(partner, "test_traffic"),
        actor=personas.a_partner_user,
        party="partner",
        note="1,000 test calls passed.",
    )
    assert step.state == ChecklistStep.State.DONE


def test_evidence_rules_note_and_document(personas, as_tenant_a) -> None:
    partner = _started()
    with pytest.raises(ValidationError) as error:
        checklist_step_complete(
            step=_step(partner, "api_credentials"), actor=personas.a_manager, party="csp", note="  "
        )
    assert error.value.message_dict == {
        "note": ["The step 'API credentials issued' needs a note as evidence."]
    }
    with pytest.raises(ValidationError) as error:
        checklist_step_complete(
            step=_step(partner, "content_licence"), actor=personas.a_partner_user, party="partner"
        )
    assert error.value.message_dict == {
        "document": ["The step 'Content licence' needs a document of the partner."]
    }
    assert _step(partner, "api_credentials").state == ChecklistStep.State.PENDING
    assert _step(partner, "content_licence").state == ChecklistStep.State.PENDING


def test_another_partners_document_is_not_evidence(personas, as_tenant_a) -> None:
    partner = _started()
    foreign = _document(personas.a_other_partner, personas.a_manager)
    with pytest.raises(ValidationError, match="does not belong to this partner"):
        checklist_step_complete(
            step=_step(partner, "content_licence"),
            actor=personas.a_partner_user,
            party="partner",
            document=foreign,
        )
    assert _step(partner, "content_licence").document is None


def test_a_done_step_must_be_reopened_before_it_is_completed_again(personas, as_tenant_a) -> None:
    partner = _started()
    step = _step(partner, "api_credentials")
    checklist_step_complete(step=step, actor=personas.a_manager, party="csp", note="Sent.")
    with pytest.raises(ValidationError, match="already done; reopen it first"):
        checklist_step_complete(step=step, actor=personas.a_manager, party="csp", note="Again.")

    checklist_step_reopen(step=step, actor=personas.a_manager, comment="Keys rotated.")
    step.refresh_from_db()
    assert (step.state, step.completed_by, step.completed_at) == ("pending", None, None)
    with pytest.raises(ValidationError, match="already pending"):
        checklist_step_reopen(step=step, actor=personas.a_manager)


def test_optional_steps_may_be_waived_by_a_manager_mandatory_ones_only_by_an_admin_with_a_comment(
    personas, as_tenant_a
) -> None:
    channel = PartnerType.objects.get(key="channel_partner")
    partner = _started(partner_type=channel)
    optional = checklist_step_waive(step=_step(partner, "pos_setup"), actor=personas.a_manager)
    assert optional.state == ChecklistStep.State.WAIVED

    tax = _step(partner, "tax_form")
    with pytest.raises(ValidationError, match="mandatory: only a tenant admin may waive it"):
        checklist_step_waive(step=tax, actor=personas.a_manager, comment="Not needed.")
    with pytest.raises(ValidationError, match="needs a comment"):
        checklist_step_waive(step=tax, actor=personas.a_admin)
    assert _step(partner, "tax_form").state == ChecklistStep.State.PENDING

    waived = checklist_step_waive(step=tax, actor=personas.a_admin, comment="Domestic partner.")
    assert (waived.state, waived.note, waived.completed_by) == (
        "waived",
        "Domestic partner.",
        personas.a_admin,
    )


def test_checklists_of_rejected_or_exited_partners_are_frozen(personas, as_tenant_a) -> None:
    partner = _started()
    Partner.objects.filter(pk=partner.pk).update(status=PartnerStatus.REJECTED)
    with pytest.raises(ValidationError, match="status 'Rejected' cannot be changed"):
        checklist_step_complete(
            step=_step(partner, "api_credentials"), actor=personas.a_manager, party="csp", note="x"
        )


def test_template_keys_are_unique_across_the_common_and_the_type_lists(
    personas, as_tenant_a
) -> None:
    content = PartnerType.objects.get(key="content_provider")
    with pytest.raises(ValidationError) as error:
        checklist_template_item_create(
            kind=ChecklistKind.ONBOARDING, partner_type=content, key="tax_form", title="Tax"
        )
    assert error.value.message_dict == {
        "key": ["The onboarding checklist already has a step with the key 'tax_form'."]
    }
    with pytest.raises(ValidationError, match="already has a step with the key 'content_licence'"):
        checklist_template_item_create(
            kind=ChecklistKind.ONBOARDING, partner_type=None, title="Content licence"
        )
    # The same key in another kind is fine.
    item = checklist_template_item_create(
        kind=ChecklistKind.OFFBOARDING, partner_type=None, key="tax_form", title="Final tax form"
    )
    assert item.position == 3  # after the three built-in offboarding steps


def test_template_steps_are_reordered_and_edited(personas, as_tenant_a) -> None:
    def keys() -> list[str]:
        return list(
            ChecklistTemplateItem.objects.filter(
                kind=ChecklistKind.OFFBOARDING, partner_type__isnull=True
            )
            .order_by("position", "id")
            .values_list("key", flat=True)
        )

    assert keys() == ["final_settlement", "access_revoked", "documents_archived"]
    last = ChecklistTemplateItem.objects.get(key="documents_archived")
    checklist_template_item_move(item=last, direction="up")
    assert keys() == ["final_settlement", "documents_archived", "access_revoked"]
    checklist_template_item_move(item=last, direction="up")
    checklist_template_item_move(item=last, direction="up")  # already first: no change
    assert keys() == ["documents_archived", "final_settlement", "access_revoked"]

    updated = checklist_template_item_update(item=last, title="Archive documents", mandatory=False)
    assert (updated.title, updated.mandatory) == ("Archive documents", False)
