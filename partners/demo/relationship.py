"""Demo data: agreements, interactions, disputes and reminders of `demo` (after the registry
and onboarding demos, before the portal demo).

Idempotent: agreements are found by reference, interactions are added only to partners that
have none, disputes by partner and title, reminders by their dedup keys; so a second run (even
on a later day) changes nothing. Dates are relative to the day of the first run.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.models import Tenant
from partners.models import (
    Agreement,
    AgreementStatus,
    Dispute,
    DisputeComment,
    DisputeStatus,
    Document,
    DocumentType,
    Interaction,
    Partner,
    PartnerStatus,
)
from partners.services import agreements as agreement_services
from partners.services import relationship as relationship_services
from partners.services.notifications import emails_muted
from partners.services.reminders import reminders_run

AGREEMENT_TYPES = {
    "content_provider": ["content_licence", "revenue_share"],
    "channel_partner": ["reseller"],
    "infrastructure_provider": ["tower_lease", "fibre_lease"],
    "technology_vendor": ["technology_supply"],
    "service_integrator": ["managed_service"],
}
# Active partners nobody has talked to for a month or more: the dashboard's quiet list.
QUIET = ["Kestrel Telemetry", "Alpine Connect", "Solvanta", "Kinetic Games", "Connecta"]
KINDS = ["meeting", "call", "email", "qbr", "visit"]
SUBJECTS = {
    "meeting": "Account planning meeting",
    "call": "Weekly sync call",
    "email": "Forecast shared by email",
    "qbr": "Quarterly business review",
    "visit": "Site visit",
}


def _partner(name: str) -> Partner | None:
    return Partner.objects.filter(Q(trading_name__iexact=name) | Q(legal_name__iexact=name)).first()


def _load_agreements(today: date, manager: User | None) -> None:
    partners = list(
        Partner.objects.filter(
            status__in=[PartnerStatus.ACTIVE, PartnerStatus.CONTRACTING, PartnerStatus.INTEGRATION]
        )
        .select_related("partner_type")
        .order_by("legal_name")
    )
    for index, partner in enumerate(partners):
        reference = f"AGR-{today.year}-{index + 1:03d}"
        if Agreement.objects.filter(reference=reference).exists():
            continue
        types = AGREEMENT_TYPES.get(partner.partner_type.key, ["other"])
        start = today - timedelta(days=240 + 45 * (index % 6))
        variant = index % 5
        end: date | None
        auto_renew = False
        if variant == 0:
            end = today + timedelta(days=12 + index)  # ends within the month
        elif variant == 1:
            end, auto_renew = today + timedelta(days=110), True  # notice deadline in 20 days
        elif variant == 2:
            end = None  # open-ended
        else:
            end = today + timedelta(days=365 + 30 * index)
        review = today + timedelta(days=[7, -4, 55, 85][index % 4])
        agreement = agreement_services.agreement_create(
            partner=partner,
            agreement_type=types[index % len(types)],
            reference=reference,
            title=f"{partner.display_name} {types[index % len(types)].replace('_', ' ')} agreement",
            start_date=start,
            end_date=end,
            auto_renew=auto_renew,
            notice_period_days=90,
            review_cadence=["quarterly", "semiannual", "annual", "monthly"][index % 4],
            next_review_date=review,
            terms=(
                "Net revenue split 70/30 in the partner's favour, settled monthly in EUR."
                if "revenue" in types[index % len(types)] or "licence" in types[index % len(types)]
                else "Service levels per schedule 2; invoices monthly, payment within 30 days."
            ),
        )
        if partner.status == PartnerStatus.CONTRACTING and index % 2:
            continue  # stays a draft while the terms are negotiated
        agreement_services.agreement_transition(
            agreement=agreement, to_status=AgreementStatus.PENDING_SIGNATURE, actor=manager
        )
        if partner.status != PartnerStatus.ACTIVE:
            continue
        agreement = agreement_services.agreement_transition(
            agreement=agreement, to_status=AgreementStatus.ACTIVE, actor=manager
        )
        signed = Document.objects.filter(partner=partner, doc_type=DocumentType.CONTRACT).first()
        if signed is not None:
            agreement = agreement_services.agreement_sign(
                agreement=agreement, document=signed, actor=manager
            )
        if partner.trading_name == "StreamWave Media":
            agreement_services.agreement_amend(
                agreement=agreement,
                changes={
                    "terms": "Net revenue split 75/25 in the partner's favour, settled monthly "
                    "in EUR; premium sports content included.",
                    "end_date": (end or today) + timedelta(days=365),
                },
                reason="Premium sports content added at the last QBR; term extended a year.",
                actor=manager,
            )


def _load_interactions(today: date, manager: User | None) -> None:
    partners = list(
        Partner.objects.filter(
            status__in=[
                PartnerStatus.ACTIVE,
                PartnerStatus.CONTRACTING,
                PartnerStatus.INTEGRATION,
                PartnerStatus.DUE_DILIGENCE,
            ]
        ).order_by("legal_name")
    )
    contacted = set(Interaction.objects.values_list("partner_id", flat=True).distinct())
    for index, partner in enumerate(partners):
        if partner.pk in contacted:
            continue
        quiet = partner.display_name in QUIET
        recent = 30 + 7 * (index % 5) if quiet else 1 + (index % 12)
        for offset, step in ((recent, 0), (recent + 41, 1), (recent + 97, 2)):
            kind = KINDS[(index + step) % len(KINDS)]
            relationship_services.interaction_log(
                partner=partner,
                kind=kind,
                occurred_on=today - timedelta(days=offset),
                subject=SUBJECTS[kind],
                participants=f"Max Manager; {partner.display_name} account team",
                notes="Pipeline reviewed; volumes in line with the forecast."
                if step == 0
                else "Open points from the last meeting closed.",
                next_steps="Send the updated forecast." if step == 0 else "",
                follow_up_on=today - timedelta(days=offset) + timedelta(days=14)
                if step == 0
                else None,
                logged_by=manager,
            )


def _backdate(dispute: Dispute, opened: int, investigating: int | None, closed: int | None) -> None:
    now = timezone.now()
    Dispute.objects.filter(pk=dispute.pk).update(
        opened_at=now - timedelta(days=opened),
        investigating_at=now - timedelta(days=investigating) if investigating is not None else None,
        closed_at=now - timedelta(days=closed) if closed is not None else None,
    )


def _comment(
    dispute: Dispute, author: User | None, body: str, from_partner: bool, ago: int
) -> None:
    comment = relationship_services.dispute_comment_add(
        dispute=dispute, author=author, body=body, from_partner=from_partner
    )
    DisputeComment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - timedelta(days=ago)
    )


def _load_disputes(manager: User | None) -> None:
    plans = [
        # partner, category, title, description, by partner, final status
        (
            "StreamWave Media",
            "settlement",
            "October statement misses two days of streams",
            "Our platform logged 1.2 million streams on 14 and 15 October that are not in the "
            "October settlement statement.",
            True,
            DisputeStatus.OPEN,
        ),
        (
            "Helix Cloud",
            "kpi",
            "Availability KPI measured during the maintenance window",
            "The September availability figure counts the announced maintenance window as "
            "downtime.",
            True,
            DisputeStatus.INVESTIGATING,
        ),
        (
            "CityMobile",
            "billing",
            "Activation bonus invoiced twice",
            "The Q3 activation bonus for 412 SIM activations appears on two invoices.",
            False,
            DisputeStatus.RESOLVED,
        ),
        (
            "Meridian",
            "contract",
            "Claim for out-of-scope integration work",
            "Meridian invoiced 18 days of integration work outside the statement of work.",
            False,
            DisputeStatus.REJECTED,
        ),
    ]
    for name, category, title, description, by_partner, final in plans:
        partner = _partner(name)
        if partner is None or Dispute.objects.filter(partner=partner, title=title).exists():
            continue
        dispute = relationship_services.dispute_open(
            partner=partner,
            category=category,
            title=title,
            description=description,
            raised_by=None if by_partner else manager,
            by_partner=by_partner,
            agreement=Agreement.objects.filter(partner=partner).order_by("pk").first(),
        )
        if final == DisputeStatus.OPEN:
            _comment(
                dispute,
                manager,
                "Thanks, we are checking the usage import for those days.",
                False,
                1,
            )
            _backdate(dispute, 3, None, None)
            continue
        thread = (
            [
                (False, "We have started looking into this; which ticket holds the notice?", 9),
                (True, "Ticket MNT-5521 holds the maintenance notice sent on 2 September.", 7),
            ]
            if by_partner
            else [
                (True, "The work was requested by your project lead; timesheets attached.", 9),
                (False, "Reviewed against the statement of work; we will come back to you.", 7),
            ]
        )
        for from_partner, body, ago in thread:
            _comment(dispute, None if from_partner else manager, body, from_partner, ago)
        relationship_services.dispute_transition(
            dispute=dispute, to_status=DisputeStatus.INVESTIGATING, actor=manager
        )
        if final == DisputeStatus.INVESTIGATING:
            _backdate(dispute, 12, 8, None)
            continue
        relationship_services.dispute_transition(
            dispute=dispute,
            to_status=final,
            actor=manager,
            resolution="Duplicate invoice cancelled; credit note CN-2291 issued."
            if final == DisputeStatus.RESOLVED
            else "The work requested is covered by the fixed-price statement of work; no "
            "additional payment is due.",
        )
        _backdate(dispute, 30, 26, 19)


def load(tenant: Tenant) -> None:
    """Idempotent: a second run changes nothing."""
    if tenant.slug != "demo":
        return
    today = timezone.localdate()
    manager = User.objects.filter(email="manager@demo.test").first()
    with emails_muted():  # the demo's reminders and dispute news stay in the app
        _load_agreements(today, manager)
        _load_interactions(today, manager)
        _load_disputes(manager)
        reminders_run(on=today)
