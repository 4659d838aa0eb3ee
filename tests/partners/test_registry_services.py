"""Registry services: partners, tags, contacts, bank details, change requests, types, tiers."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from partnerhub.accounts.roles import Role
from partnerhub.audit.models import AuditEntry
from partners.models import (
    BankDetails,
    ChangeRequest,
    ChecklistStep,
    Contact,
    Notification,
    Partner,
    PartnerStatus,
    PartnerTag,
    PartnerTier,
    PartnerType,
    StatusTransition,
    Tag,
)
from partners.services import registry as services
from tests.conftest import Personas
from tests.partners.factories import ContactFactory

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"


def content_provider() -> PartnerType:
    return PartnerType.objects.get(key="content_provider")


def test_partner_create_registers_an_applied_partner_and_starts_onboarding(
    personas: Personas, as_tenant_a: None
) -> None:
    partner = services.partner_create(
        actor=personas.a_manager,
        legal_name="  Nova Streams Ltd ",
        partner_type=content_provider(),
        country="gb",
        account_owner=personas.a_manager,
        tags=["Video", "video", " 5G "],
    )
    partner.refresh_from_db()
    assert partner.legal_name == "Nova Streams Ltd"
    assert partner.country == "GB"
    assert partner.status == PartnerStatus.APPLIED
    assert partner.tenant_id == personas.tenant_a.pk
    assert sorted(t.name for t in partner.tags.all()) == ["5G", "Video"]
    # The onboarding area recorded the first transition and created the checklist.
    assert StatusTransition.objects.filter(partner=partner, to_status="applied").exists()
    assert ChecklistStep.objects.filter(partner=partner).exists()


def test_partner_create_refuses_a_duplicate_legal_name_and_writes_nothing(
    personas: Personas, as_tenant_a: None
) -> None:
    before = Partner.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.partner_create(
            actor=personas.a_manager,
            legal_name="acme content ltd",
            partner_type=content_provider(),
            country="DE",
        )
    assert "legal_name" in caught.value.message_dict
    assert Partner.objects.count() == before


def test_partner_create_refuses_a_partner_user_or_foreign_user_as_owner(
    personas: Personas, as_tenant_a: None
) -> None:
    for owner in (personas.a_partner_user, personas.b_manager):
        with pytest.raises(ValidationError) as caught:
            services.partner_create(
                actor=personas.a_manager,
                legal_name=f"Owned by {owner.email}",
                partner_type=content_provider(),
                country="DE",
                account_owner=owner,
            )
        assert "account_owner" in caught.value.message_dict


def test_partner_update_refuses_a_parent_loop(personas: Personas, as_tenant_a: None) -> None:
    child = personas.a_other_partner
    services.partner_update(partner=child, actor=personas.a_manager, parent=personas.a_partner)
    with pytest.raises(ValidationError, match="loop"):
        services.partner_update(
            partner=Partner.objects.get(pk=personas.a_partner.pk),
            actor=personas.a_manager,
            parent=child,
        )


def test_partner_update_cannot_change_the_status(personas: Personas, as_tenant_a: None) -> None:
    with pytest.raises(ValidationError, match="status"):
        services.partner_update(
            partner=personas.a_partner, actor=personas.a_manager, status=PartnerStatus.EXITED
        )


def test_partner_tags_set_writes_tenant_links_and_removes_the_rest(
    personas: Personas, as_tenant_a: None
) -> None:
    partner = personas.a_partner
    services.partner_tags_set(partner=partner, names=["IoT", "Edge"])
    services.partner_tags_set(partner=partner, names=["edge", "Retail"])
    links = PartnerTag.objects.filter(partner=partner).select_related("tag")
    assert sorted(link.tag.name for link in links) == ["Edge", "Retail"]
    assert {link.tenant_id for link in links} == {personas.tenant_a.pk}
    assert Tag.objects.filter(name="IoT").exists()  # the tag stays, only the link went


def test_a_new_primary_contact_unsets_the_old_one(personas: Personas, as_tenant_a: None) -> None:
    first = services.contact_create(partner=personas.a_partner, name="First")
    assert first.is_primary  # the first contact of a partner is its primary
    second = services.contact_create(partner=personas.a_partner, name="Second", is_primary=True)
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    services.contact_update(contact=first, is_primary=True)
    second.refresh_from_db()
    assert not second.is_primary
    primaries = Contact.objects.filter(partner=personas.a_partner, is_primary=True)
    assert list(primaries) == [first]


def test_contact_create_rejects_a_bad_email(personas: Personas, as_tenant_a: None) -> None:
    with pytest.raises(ValidationError) as caught:
        services.contact_create(partner=personas.a_partner, name="X", email="not-an-email")
    assert "email" in caught.value.message_dict
    assert not Contact.objects.filter(name="X").exists()


def test_only_finance_and_admins_set_bank_details_normalised(
    personas: Personas, as_tenant_a: None
) -> None:
    for role in (Role.PARTNER_MANAGER, Role.VIEWER, Role.PARTNER, None):
        with pytest.raises(PermissionDenied):
            services.bank_details_set(
                partner=personas.a_partner, actor_role=role, account_holder="X", iban=IBAN
            )
    assert not BankDetails.objects.exists()
    for role in (Role.FINANCE, Role.ADMIN):
        details = services.bank_details_set(
            partner=personas.a_partner,
            actor_role=role,
            account_holder="Acme Content Ltd",
            iban="de89 3704 0044 0532 0130 00",
            swift_bic="cobadeff",
            currency="eur",
        )
        assert (details.iban, details.swift_bic, details.currency) == (IBAN, "COBADEFF", "EUR")
    assert BankDetails.objects.count() == 1


def test_bank_details_reject_an_iban_with_wrong_check_digits(
    personas: Personas, as_tenant_a: None
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.bank_details_set(
            partner=personas.a_partner,
            actor_role=Role.FINANCE,
            account_holder="Acme",
            iban="DE88370400440532013000",
            swift_bic="NOPE",
        )
    assert set(caught.value.message_dict) == {"iban", "swift_bic"}
    assert not BankDetails.objects.exists()


def test_the_audit_entry_of_a_bank_change_masks_the_iban(
    personas: Personas, as_tenant_a: None
) -> None:
    details = services.bank_details_set(
        partner=personas.a_partner, actor_role=Role.FINANCE, account_holder="Acme", iban=IBAN
    )
    services.bank_details_set(
        partner=personas.a_partner,
        actor_role=Role.FINANCE,
        account_holder="Acme",
        iban="GB29NWBK60161331926819",
    )
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(BankDetails), object_pk=str(details.pk)
    )
    assert entries.count() == 2
    for entry in entries:
        text = str(entry.changes) + entry.object_repr
        assert IBAN not in text
        assert "GB29NWBK60161331926819" not in text
        assert "iban" in entry.changes


def company_change(personas: Personas, **payload: str) -> ChangeRequest:
    return ChangeRequest.objects.create(
        partner=personas.a_partner,
        kind=ChangeRequest.Kind.COMPANY,
        payload=payload,
        requested_by=personas.a_partner_user,
    )


def test_approving_a_company_change_applies_its_payload(
    personas: Personas, as_tenant_a: None
) -> None:
    change = company_change(
        personas, legal_name="Acme Content Group Ltd", website="https://acme.example", status="x"
    )
    services.change_request_approve(
        change_request=change, actor=personas.a_manager, actor_role=Role.PARTNER_MANAGER
    )
    partner = Partner.objects.get(pk=personas.a_partner.pk)
    assert partner.legal_name == "Acme Content Group Ltd"
    assert partner.website == "https://acme.example"
    assert partner.status == PartnerStatus.ACTIVE  # not a field a partner may change
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED
    assert change.decided_by == personas.a_manager and change.decided_at is not None
    # The partner's portal user is told.
    assert Notification.objects.filter(user=personas.a_partner_user).exists()


def test_a_decided_change_cannot_be_decided_again(personas: Personas, as_tenant_a: None) -> None:
    change = company_change(personas, trading_name="Acme 2")
    services.change_request_reject(
        change_request=change,
        actor=personas.a_manager,
        actor_role=Role.PARTNER_MANAGER,
        comment="Keep the old name.",
    )
    with pytest.raises(ValidationError, match="already Rejected"):
        services.change_request_approve(
            change_request=change, actor=personas.a_manager, actor_role=Role.PARTNER_MANAGER
        )
    assert Partner.objects.get(pk=personas.a_partner.pk).trading_name == "Acme"


def test_rejecting_needs_a_reason(personas: Personas, as_tenant_a: None) -> None:
    change = company_change(personas, trading_name="Acme 2")
    with pytest.raises(ValidationError):
        services.change_request_reject(
            change_request=change,
            actor=personas.a_manager,
            actor_role=Role.PARTNER_MANAGER,
            comment=" ",
        )
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.PENDING


def test_bank_changes_are_approved_by_finance_not_by_managers(
    personas: Personas, as_tenant_a: None
) -> None:
    change = ChangeRequest.objects.create(
        partner=personas.a_partner,
        kind=ChangeRequest.Kind.BANK,
        payload={"account_holder": "Acme Content Ltd", "iban": IBAN, "bank_name": "Commerzbank"},
        requested_by=personas.a_partner_user,
    )
    with pytest.raises(PermissionDenied):
        services.change_request_approve(
            change_request=change, actor=personas.a_manager, actor_role=Role.PARTNER_MANAGER
        )
    assert not BankDetails.objects.exists()
    services.change_request_approve(
        change_request=change, actor=personas.a_finance, actor_role=Role.FINANCE
    )
    details = BankDetails.objects.get(partner=personas.a_partner)
    assert (details.iban, details.bank_name) == (IBAN, "Commerzbank")


def test_finance_cannot_decide_company_changes(personas: Personas, as_tenant_a: None) -> None:
    change = company_change(personas, trading_name="Acme 2")
    with pytest.raises(PermissionDenied):
        services.change_request_approve(
            change_request=change, actor=personas.a_finance, actor_role=Role.FINANCE
        )


def test_tenants_add_their_own_types_and_tiers(personas: Personas, as_tenant_a: None) -> None:
    mvno = services.partner_type_create(name="MVNO")
    assert (mvno.key, mvno.is_builtin) == ("mvno", False)
    with pytest.raises(ValidationError, match="already exists"):
        services.partner_type_create(name="mvno")
    platinum = services.partner_tier_create(name="Platinum", rank=4)
    assert PartnerTier.objects.order_by("-rank").first() == platinum


def test_used_or_built_in_types_cannot_be_deleted(personas: Personas, as_tenant_a: None) -> None:
    with pytest.raises(ValidationError, match="Built-in"):
        services.partner_type_delete(partner_type=content_provider())
    mvno = services.partner_type_create(name="MVNO")
    services.partner_update(partner=personas.a_partner, actor=None, partner_type=mvno)
    with pytest.raises(ValidationError, match="used by partners"):
        services.partner_type_delete(partner_type=mvno)
    assert PartnerType.objects.filter(pk=mvno.pk).exists()


def test_contact_delete_removes_only_that_contact(personas: Personas, as_tenant_a: None) -> None:
    keep = ContactFactory(partner=personas.a_partner)
    gone = ContactFactory(partner=personas.a_partner)
    services.contact_delete(contact=gone)
    assert list(Contact.objects.filter(partner=personas.a_partner)) == [keep]
