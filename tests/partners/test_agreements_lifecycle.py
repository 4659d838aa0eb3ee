"""Agreements: drafts, the lifecycle, amendments as versions, reviews, acceptance, signing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from partnerhub.tenancy.context import tenant_context
from partners.models import Agreement, AgreementStatus, AgreementVersion, Document
from partners.selectors.agreements import agreement_detail, agreement_version_history
from partners.services import agreements as services

pytestmark = pytest.mark.django_db


def make_agreement(partner, reference: str = "AGR-1", **extra) -> Agreement:
    values = {
        "partner": partner,
        "agreement_type": "revenue_share",
        "reference": reference,
        "title": "Video bundle",
        "start_date": date(2026, 1, 1),
        "end_date": date(2027, 12, 31),
        "terms": "70/30",
    } | extra
    return services.agreement_create(**values)


def activate(agreement: Agreement, actor=None) -> Agreement:
    services.agreement_transition(
        agreement=agreement, to_status=AgreementStatus.PENDING_SIGNATURE, actor=actor
    )
    return services.agreement_transition(
        agreement=agreement, to_status=AgreementStatus.ACTIVE, actor=actor, on=date(2026, 6, 1)
    )


def test_amendment_keeps_version_one_readable_and_diffs_the_changes(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = activate(make_agreement(personas.a_partner))
        services.agreement_amend(
            agreement=agreement,
            changes={"end_date": date(2028, 12, 31), "terms": "75/25"},
            reason="Extension agreed at the QBR",
            actor=personas.a_manager,
        )
        agreement.refresh_from_db()
        assert agreement.version == 2
        assert agreement.terms == "75/25"
        v1 = AgreementVersion.objects.get(agreement=agreement)
        assert v1.number == 1
        assert v1.snapshot["terms"] == "70/30"
        assert v1.snapshot["end_date"] == "2027-12-31"
        assert v1.reason == "Extension agreed at the QBR"

        history = agreement_version_history(agreement_detail(agreement.pk))
        assert [h["number"] for h in history] == [1, 2]
        assert history[0]["terms"]["terms"] == "70/30"
        assert {c["field"] for c in history[1]["changes"]} == {"end_date", "terms"}
        assert history[1]["reason"] == "Extension agreed at the QBR"

        # A second amendment: v1 and v2 both stay readable.
        services.agreement_amend(
            agreement=agreement, changes={"title": "Video+"}, reason="Rename", actor=None
        )
        numbers = list(
            AgreementVersion.objects.filter(agreement=agreement).values_list("number", flat=True)
        )
        assert sorted(numbers) == [1, 2]


def test_amendment_needs_a_change_a_reason_and_a_live_agreement(personas) -> None:
    with tenant_context(personas.tenant_a):
        draft = make_agreement(personas.a_partner)
        with pytest.raises(ValidationError, match="pending signature or active"):
            services.agreement_amend(
                agreement=draft, changes={"terms": "x"}, reason="r", actor=None
            )
        live = activate(draft)
        with pytest.raises(ValidationError, match="changes nothing"):
            services.agreement_amend(
                agreement=live, changes={"terms": "70/30"}, reason="r", actor=None
            )
        with pytest.raises(ValidationError, match="why"):
            services.agreement_amend(agreement=live, changes={"terms": "x"}, reason=" ", actor=None)
        with pytest.raises(ValidationError):
            services.agreement_amend(
                agreement=live,
                changes={"partner": personas.a_other_partner},
                reason="r",
                actor=None,
            )
        assert AgreementVersion.objects.count() == 0
        assert Agreement.objects.get(pk=live.pk).version == 1


def test_lifecycle_allows_only_the_listed_transitions(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = make_agreement(personas.a_partner, end_date=date(2026, 3, 31))
        with pytest.raises(ValidationError, match="cannot become active"):
            services.agreement_transition(agreement=agreement, to_status="active", actor=None)
        services.agreement_transition(
            agreement=agreement, to_status="pending_signature", actor=None
        )
        # The end date has passed by the day it would activate.
        with pytest.raises(ValidationError, match="end date has passed"):
            services.agreement_transition(
                agreement=agreement, to_status="active", actor=None, on=date(2026, 4, 1)
            )
        services.agreement_transition(
            agreement=agreement, to_status="active", actor=None, on=date(2026, 2, 1)
        )
        with pytest.raises(ValidationError, match="expires on its end date"):
            services.agreement_transition(
                agreement=agreement, to_status="expired", actor=None, on=date(2026, 3, 1)
            )
        services.agreement_transition(
            agreement=agreement, to_status="expired", actor=None, on=date(2026, 3, 31)
        )
        with pytest.raises(ValidationError, match="allowed: nothing"):
            services.agreement_transition(agreement=agreement, to_status="active", actor=None)
        assert Agreement.objects.get(pk=agreement.pk).status == "expired"


def test_drafts_are_edited_in_place_and_references_are_unique(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = make_agreement(personas.a_partner)
        assert agreement.status == "draft"
        assert agreement.next_review_date == date(2026, 4, 1)  # quarterly after the start
        with pytest.raises(ValidationError, match="exists"):
            make_agreement(personas.a_other_partner, reference="agr-1")
        services.agreement_update(agreement=agreement, title="Renamed", reference="AGR-1b")
        assert Agreement.objects.get(pk=agreement.pk).title == "Renamed"
        activate(agreement)
        with pytest.raises(ValidationError, match="amend it instead"):
            services.agreement_update(agreement=agreement, title="Again")
        with pytest.raises(ValidationError, match="terminate it instead"):
            services.agreement_delete(agreement=agreement)
    with tenant_context(personas.tenant_b):
        # References are unique per tenant only.
        make_agreement(personas.b_partner, reference="AGR-1b")


def test_review_sets_the_next_date_by_cadence_and_is_recorded(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = activate(make_agreement(personas.a_partner, review_cadence="semiannual"))
        review = services.agreement_review_complete(
            agreement=agreement, actor=personas.a_manager, notes="All fine", on=date(2026, 8, 31)
        )
        assert review.next_review_date == date(2027, 2, 28)
        assert Agreement.objects.get(pk=agreement.pk).next_review_date == date(2027, 2, 28)
        assert list(agreement_detail(agreement.pk).reviews.all()) == [review]


def test_partner_accepts_only_its_own_live_agreement_and_an_amendment_asks_again(personas) -> None:
    with tenant_context(personas.tenant_a):
        mine = make_agreement(personas.a_partner)
        other = activate(make_agreement(personas.a_other_partner, reference="AGR-2"))
        with pytest.raises(ValidationError, match="pending signature or active"):
            services.agreement_accept(agreement=mine, user=personas.a_partner_user)
        with pytest.raises(ValidationError, match="user of the agreement's partner"):
            services.agreement_accept(agreement=other, user=personas.a_partner_user)
        activate(mine)
        accepted = services.agreement_accept(agreement=mine, user=personas.a_partner_user)
        assert accepted.accepted_by == personas.a_partner_user
        first = accepted.accepted_by_partner_at
        again = services.agreement_accept(agreement=mine, user=personas.a_partner_user)
        assert again.accepted_by_partner_at == first
        amended = services.agreement_amend(
            agreement=mine, changes={"terms": "new"}, reason="r", actor=None
        )
        assert amended.accepted_by_partner_at is None


def test_signed_document_must_belong_to_the_same_partner(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = make_agreement(personas.a_partner)

        def doc(partner) -> Document:
            return Document.objects.create(
                partner=partner,
                doc_type="contract",
                file="x",
                original_name="signed.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
            )

        with pytest.raises(ValidationError, match="same partner"):
            services.agreement_sign(
                agreement=agreement, document=doc(personas.a_other_partner), actor=None
            )
        own = doc(personas.a_partner)
        signed = services.agreement_sign(agreement=agreement, document=own, actor=None)
        assert signed.signed_document == own
