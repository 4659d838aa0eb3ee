"""The daily reminders of a tenant: agreements ending or due for review, expiring documents,
quiet partners. Each becomes a task for the account owner (or the tenant's handlers).

Idempotent: every task's dedup key names the object and the date it is about, so running the
job again (the same day or the next) creates nothing new until that date changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db import transaction
from django.db.models import DateField, ExpressionWrapper, F
from django.urls import NoReverseMatch, reverse

from partnerhub.accounts.models import User
from partners.models import (
    Agreement,
    AgreementStatus,
    Document,
    Partner,
    PartnerStatus,
    ProgramSettings,
)
from partners.selectors.relationship import partners_quiet
from partners.services.notifications import notify
from partners.services.relationship import csp_handlers

LIVE = (AgreementStatus.PENDING_SIGNATURE, AgreementStatus.ACTIVE)
GONE = (PartnerStatus.EXITED, PartnerStatus.REJECTED)


def _partner_url(partner_id: int) -> str:
    try:
        return reverse("partners:detail", kwargs={"pk": partner_id})
    except NoReverseMatch:  # the registry's detail page is not there yet
        return ""


class _Recipients:
    """The account owner of a partner, else the tenant's admins and partner managers."""

    def __init__(self) -> None:
        self._handlers: list[User] | None = None

    def __call__(self, partner: Partner) -> list[User]:
        owner = partner.account_owner
        if owner is not None and owner.is_active:
            return [owner]
        if self._handlers is None:
            self._handlers = csp_handlers()
        return self._handlers


@transaction.atomic
def reminders_run(*, on: date) -> dict[str, int]:
    """Create the reminder tasks due ``on`` for the active tenant; returns created counts."""
    settings_row = ProgramSettings.objects.first()
    window = settings_row.reminder_window_days if settings_row else 30
    until = on + timedelta(days=window)
    recipients = _Recipients()
    created: Counter[str] = Counter()

    agreements = (
        Agreement.objects.filter(status__in=LIVE)
        .exclude(partner__status__in=GONE)
        .select_related("partner__account_owner")
    )
    ending = agreements.filter(auto_renew=False, end_date__gte=on, end_date__lte=until)
    for agreement in ending.order_by("end_date", "pk"):
        assert agreement.end_date is not None
        partner = agreement.partner
        created["agreement_ending"] += len(
            notify(
                users=recipients(partner),
                kind="agreement_ending",
                title=f"Agreement ends {agreement.end_date:%d %b %Y}: {agreement.reference}",
                body=f"{agreement.title} with {partner.display_name} ends without renewal.",
                url=reverse("partners:agreement-detail", kwargs={"pk": agreement.pk}),
                partner=partner,
                dedup_key=f"agreement:{agreement.pk}:ending:{agreement.end_date.isoformat()}",
                is_task=True,
                due_on=agreement.end_date,
            )
        )

    # Auto-renewing agreements do not end: what matters is the last day to give notice.
    renewing = (
        agreements.filter(auto_renew=True, end_date__gte=on)
        .annotate(
            notice_deadline=ExpressionWrapper(
                F("end_date") - F("notice_period_days"), output_field=DateField()
            )
        )
        .filter(notice_deadline__gte=on, notice_deadline__lte=until)
    )
    for agreement in renewing.order_by("notice_deadline", "pk"):
        deadline: date = agreement.notice_deadline
        partner = agreement.partner
        created["agreement_ending"] += len(
            notify(
                users=recipients(partner),
                kind="agreement_ending",
                title=f"Renewal notice deadline {deadline:%d %b %Y}: {agreement.reference}",
                body=f"{agreement.title} with {partner.display_name} renews automatically on "
                f"{agreement.end_date:%d %b %Y} unless notice is given by {deadline:%d %b %Y}.",
                url=reverse("partners:agreement-detail", kwargs={"pk": agreement.pk}),
                partner=partner,
                dedup_key=f"agreement:{agreement.pk}:notice:{deadline.isoformat()}",
                is_task=True,
                due_on=deadline,
            )
        )

    for agreement in agreements.filter(next_review_date__lte=until).order_by("next_review_date"):
        assert agreement.next_review_date is not None
        review = agreement.next_review_date
        partner = agreement.partner
        overdue = " (overdue)" if review < on else ""
        created["agreement_review_due"] += len(
            notify(
                users=recipients(partner),
                kind="agreement_review_due",
                title=f"Review due {review:%d %b %Y}{overdue}: {agreement.reference}",
                body=f"{agreement.title} with {partner.display_name} is due for review "
                f"(reviewed {agreement.get_review_cadence_display().lower()}).",
                url=reverse("partners:agreement-detail", kwargs={"pk": agreement.pk}),
                partner=partner,
                dedup_key=f"agreement:{agreement.pk}:review:{review.isoformat()}",
                is_task=True,
                due_on=review,
            )
        )

    documents = (
        Document.objects.filter(expires_on__gte=on, expires_on__lte=until)
        .exclude(partner__status__in=GONE)
        .select_related("partner__account_owner")
        .order_by("expires_on")
    )
    for document in documents:
        assert document.expires_on is not None
        partner = document.partner
        created["document_expiring"] += len(
            notify(
                users=recipients(partner),
                kind="document_expiring",
                title=f"Document expires {document.expires_on:%d %b %Y}: {document}",
                body=f"{document.get_doc_type_display()} of {partner.display_name} expires on "
                f"{document.expires_on:%d %b %Y}: ask the partner for a new one.",
                url=_partner_url(partner.pk),
                partner=partner,
                dedup_key=f"document:{document.pk}:expires:{document.expires_on.isoformat()}",
                is_task=True,
                due_on=document.expires_on,
            )
        )

    for partner in partners_quiet(on=on).select_related("account_owner"):
        since: date = partner.quiet_since  # type: ignore[attr-defined]
        created["partner_quiet"] += len(
            notify(
                users=recipients(partner),
                kind="partner_quiet",
                title=f"Gone quiet: {partner.display_name}",
                body=f"No contact with {partner.display_name} since {since:%d %b %Y} "
                f"({(on - since).days} days): get in touch and log the interaction.",
                url=_partner_url(partner.pk),
                partner=partner,
                dedup_key=f"partner:{partner.pk}:quiet:{since.isoformat()}",
                is_task=True,
                due_on=on,
            )
        )
    return {kind: count for kind, count in created.items() if count}
