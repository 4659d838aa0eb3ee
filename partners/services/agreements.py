"""Agreements: drafts, the status lifecycle, amendments as versions, reviews, acceptance,
signing."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from partners.models import (
    Agreement,
    AgreementStatus,
    AgreementVersion,
    Document,
    Partner,
    PartnerStatus,
    PartnerUser,
)
from partners.models.agreements import AgreementReview, ReviewCadence

# The agreement lifecycle, in one place: from-status -> the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.PENDING_SIGNATURE}),
    AgreementStatus.PENDING_SIGNATURE: frozenset(
        {AgreementStatus.ACTIVE, AgreementStatus.DRAFT, AgreementStatus.TERMINATED}
    ),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.EXPIRED, AgreementStatus.TERMINATED}),
    AgreementStatus.EXPIRED: frozenset(),
    AgreementStatus.TERMINATED: frozenset(),
}

# Statuses whose terms change only by amendment (a new version); drafts are edited in place.
AMENDABLE = frozenset({AgreementStatus.PENDING_SIGNATURE, AgreementStatus.ACTIVE})
ACCEPTABLE = AMENDABLE

# The fields an amendment may change, and that a version snapshot keeps.
TERM_FIELDS = (
    "agreement_type",
    "title",
    "start_date",
    "end_date",
    "auto_renew",
    "notice_period_days",
    "review_cadence",
    "next_review_date",
    "terms",
)
DATE_FIELDS = frozenset({"start_date", "end_date", "next_review_date"})
CADENCE_MONTHS = {
    ReviewCadence.MONTHLY: 1,
    ReviewCadence.QUARTERLY: 3,
    ReviewCadence.SEMIANNUAL: 6,
    ReviewCadence.ANNUAL: 12,
}
CLOSED_PARTNER = frozenset({PartnerStatus.REJECTED, PartnerStatus.EXITED})


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def next_review_after(day: date, cadence: str) -> date:
    return add_months(day, CADENCE_MONTHS[ReviewCadence(cadence)])


def agreement_snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement's terms as JSON (dates as ISO strings)."""
    snapshot: dict[str, Any] = {}
    for name in TERM_FIELDS:
        value = getattr(agreement, name)
        snapshot[name] = value.isoformat() if isinstance(value, date) else value
    snapshot["version"] = agreement.version
    snapshot["status"] = agreement.status
    return snapshot


def _apply_terms(agreement: Agreement, changes: dict[str, Any]) -> list[str]:
    unknown = set(changes) - set(TERM_FIELDS)
    if unknown:
        raise ValidationError(
            {name: "This field cannot be changed here." for name in sorted(unknown)}
        )
    changed = []
    for name, value in changes.items():
        if getattr(agreement, name) != value:
            setattr(agreement, name, value)
            changed.append(name)
    return changed


def _check_partner(partner: Partner) -> None:
    if partner.status in CLOSED_PARTNER:
        status = partner.get_status_display().lower()
        raise ValidationError({"partner": f"The partner is {status}: no new agreements."})


@transaction.atomic
def agreement_create(
    *,
    partner: Partner,
    agreement_type: str,
    reference: str,
    title: str,
    start_date: date,
    end_date: date | None = None,
    auto_renew: bool = False,
    notice_period_days: int = 90,
    review_cadence: str = ReviewCadence.QUARTERLY,
    next_review_date: date | None = None,
    terms: str = "",
) -> Agreement:
    """A new agreement in ``draft``; the reference is unique within the tenant."""
    _check_partner(partner)
    reference = reference.strip()
    if reference and Agreement.objects.filter(reference__iexact=reference).exists():
        raise ValidationError({"reference": f"An agreement with reference {reference} exists."})
    agreement = Agreement(
        tenant=require_current_tenant(),
        partner=partner,
        agreement_type=agreement_type,
        reference=reference,
        title=title.strip(),
        status=AgreementStatus.DRAFT,
        start_date=start_date,
        end_date=end_date,
        auto_renew=auto_renew,
        notice_period_days=notice_period_days,
        review_cadence=review_cadence,
        terms=terms,
    )
    agreement.next_review_date = next_review_date or _first_review(agreement)
    agreement.full_clean()
    agreement.save()
    return agreement


def _first_review(agreement: Agreement) -> date | None:
    if not agreement.start_date or agreement.review_cadence not in CADENCE_MONTHS:
        return None
    return next_review_after(agreement.start_date, agreement.review_cadence)


@transaction.atomic
def agreement_update(*, agreement: Agreement, **changes: Any) -> Agreement:
    """Edit a draft in place; agreements past draft change only by amendment."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.DRAFT:
        raise ValidationError(
            f"Only draft agreements can be edited; this one is "
            f"{agreement.get_status_display().lower()}: amend it instead."
        )
    reference = changes.pop("reference", None)
    if reference is not None and reference.strip() != agreement.reference:
        reference = reference.strip()
        if Agreement.objects.filter(reference__iexact=reference).exclude(pk=agreement.pk).exists():
            raise ValidationError({"reference": f"An agreement with reference {reference} exists."})
        agreement.reference = reference
    _apply_terms(agreement, changes)
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def agreement_amend(
    *, agreement: Agreement, changes: dict[str, Any], reason: str, actor: User | None
) -> Agreement:
    """Freeze the current terms as version N, apply ``changes`` and make them version N+1.

    The partner's acceptance belonged to the old terms, so it is cleared.
    """
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status not in AMENDABLE:
        raise ValidationError(
            f"Only agreements pending signature or active can be amended; this one is "
            f"{agreement.get_status_display().lower()}."
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why the agreement is amended."})
    snapshot = agreement_snapshot(agreement)
    if not _apply_terms(agreement, changes):
        raise ValidationError("The amendment changes nothing: change at least one term.")
    version = AgreementVersion(
        tenant=agreement.tenant,
        agreement=agreement,
        number=snapshot["version"],
        snapshot=snapshot,
        reason=reason.strip(),
        created_by=actor,
    )
    version.full_clean(exclude=["agreement", "created_by"], validate_constraints=False)
    version.save()
    agreement.version += 1
    agreement.accepted_by_partner_at = None
    agreement.accepted_by = None
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def agreement_transition(
    *, agreement: Agreement, to_status: str, actor: User | None, on: date | None = None
) -> Agreement:
    """Move an agreement along its lifecycle (see TRANSITIONS)."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    today = on or timezone.localdate()
    if to_status not in AgreementStatus.values:
        raise ValidationError({"to_status": f"Unknown status {to_status!r}."})
    allowed = TRANSITIONS[AgreementStatus(agreement.status)]
    if to_status not in allowed:
        names = ", ".join(AgreementStatus(s).label.lower() for s in sorted(allowed)) or "nothing"
        raise ValidationError(
            {
                "to_status": f"An agreement that is {agreement.get_status_display().lower()} "
                f"cannot become {AgreementStatus(to_status).label.lower()} "
                f"(allowed: {names})."
            }
        )
    if to_status == AgreementStatus.ACTIVE:
        _check_partner(agreement.partner)
        if agreement.end_date and agreement.end_date < today:
            raise ValidationError(
                {"to_status": "The agreement's end date has passed: it cannot become active."}
            )
    if to_status == AgreementStatus.EXPIRED and (
        agreement.end_date is None or agreement.end_date > today
    ):
        raise ValidationError(
            {"to_status": "An agreement expires on its end date; terminate it to end it earlier."}
        )
    agreement.status = to_status
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def agreement_review_complete(
    *, agreement: Agreement, actor: User | None, notes: str = "", on: date | None = None
) -> AgreementReview:
    """Record a review and set the next review date by the agreement's cadence."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status not in AMENDABLE:
        raise ValidationError(
            f"Only agreements pending signature or active are reviewed; this one is "
            f"{agreement.get_status_display().lower()}."
        )
    reviewed_on = on or timezone.localdate()
    next_date = next_review_after(reviewed_on, agreement.review_cadence)
    review = AgreementReview(
        tenant=agreement.tenant,
        agreement=agreement,
        reviewed_on=reviewed_on,
        notes=notes.strip(),
        next_review_date=next_date,
        reviewed_by=actor,
    )
    review.full_clean(exclude=["agreement", "reviewed_by"])
    review.save()
    agreement.next_review_date = next_date
    agreement.full_clean()
    agreement.save()
    return review


@transaction.atomic
def agreement_accept(*, agreement: Agreement, user: User) -> Agreement:
    """The partner accepts the current terms in the portal (pending signature or active only).

    Accepting again changes nothing; only a user of the agreement's own partner may accept.
    """
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if not PartnerUser.objects.filter(user=user, partner_id=agreement.partner_id).exists():
        raise ValidationError("Only a user of the agreement's partner can accept it.")
    if agreement.status not in ACCEPTABLE:
        raise ValidationError(
            f"Only agreements pending signature or active can be accepted; this one is "
            f"{agreement.get_status_display().lower()}."
        )
    if agreement.accepted_by_partner_at is None:
        agreement.accepted_by_partner_at = timezone.now()
        agreement.accepted_by = user
        agreement.full_clean()
        agreement.save()
    return agreement


@transaction.atomic
def agreement_sign(*, agreement: Agreement, document: Document, actor: User | None) -> Agreement:
    """Attach the signed copy: a document of the same partner."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if document.partner_id != agreement.partner_id:
        raise ValidationError({"document": "The signed document must belong to the same partner."})
    if agreement.status in (AgreementStatus.EXPIRED, AgreementStatus.TERMINATED):
        raise ValidationError(
            f"The agreement is {agreement.get_status_display().lower()}: it can no longer be "
            "signed."
        )
    agreement.signed_document = document
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def agreement_delete(*, agreement: Agreement) -> None:
    """Drafts may be thrown away; anything past draft is terminated instead and kept."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.DRAFT:
        raise ValidationError(
            f"Only draft agreements can be deleted; this one is "
            f"{agreement.get_status_display().lower()}: terminate it instead."
        )
    agreement.delete()
