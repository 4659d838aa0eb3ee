"""Reads of the partner portal. Every one takes the caller's partner and never returns another
partner's rows: a foreign id answers exactly like a missing one (404)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from partnerhub.accounts.models import token_digest
from partners.models import (
    Agreement,
    AgreementStatus,
    Application,
    BankDetails,
    ChangeRequest,
    ChecklistKind,
    ChecklistStep,
    Document,
    Invitation,
    Partner,
    PartnerStatus,
    PartnerUser,
)
from partners.models.onboarding import Party

ONBOARDING_STAGES = (
    PartnerStatus.APPLIED,
    PartnerStatus.VETTING,
    PartnerStatus.DUE_DILIGENCE,
    PartnerStatus.CONTRACTING,
    PartnerStatus.INTEGRATION,
    PartnerStatus.ACTIVE,
)
PARTNER_PARTIES = (Party.PARTNER, Party.EITHER)


@dataclass(frozen=True)
class Stage:
    status: str
    label: str
    state: str  # "done", "current" or "todo"


@dataclass(frozen=True)
class PortalOverview:
    partner: Partner
    steps: list[ChecklistStep]
    stages: list[Stage]
    mandatory_total: int
    mandatory_done: int
    for_partner: list[ChecklistStep] = field(default_factory=list)

    @property
    def percent_done(self) -> int:
        if not self.mandatory_total:
            return 100
        return round(100 * self.mandatory_done / self.mandatory_total)

    @property
    def in_pipeline(self) -> bool:
        return self.partner.status in ONBOARDING_STAGES


def _stages(status: str) -> list[Stage]:
    if status not in ONBOARDING_STAGES:
        return [Stage(s.value, s.label, "todo") for s in ONBOARDING_STAGES]
    reached = ONBOARDING_STAGES.index(PartnerStatus(status))
    stages = []
    for index, stage in enumerate(ONBOARDING_STAGES):
        if index < reached or stage == PartnerStatus.ACTIVE == status:
            state = "done"
        elif index == reached:
            state = "current"
        else:
            state = "todo"
        stages.append(Stage(stage.value, stage.label, state))
    return stages


def portal_partner_get(*, partner: Partner) -> Partner:
    """The partner with what its pages show about it (type, tier) loaded once."""
    return Partner.objects.select_related("partner_type", "tier").get(pk=partner.pk)


def portal_checklist(*, partner: Partner) -> QuerySet[ChecklistStep]:
    return ChecklistStep.objects.filter(
        partner=partner, kind=ChecklistKind.ONBOARDING
    ).select_related("document", "completed_by")


def portal_overview(*, partner: Partner) -> PortalOverview:
    """Home page: status in the lifecycle, checklist progress, and what the partner must do."""
    partner = portal_partner_get(partner=partner)
    steps = list(portal_checklist(partner=partner))
    mandatory = [s for s in steps if s.mandatory]
    done_states = (ChecklistStep.State.DONE, ChecklistStep.State.WAIVED)
    return PortalOverview(
        partner=partner,
        steps=steps,
        stages=_stages(partner.status),
        mandatory_total=len(mandatory),
        mandatory_done=sum(1 for s in mandatory if s.state in done_states),
        for_partner=[
            s
            for s in steps
            if s.state == ChecklistStep.State.PENDING and s.completed_by_party in PARTNER_PARTIES
        ],
    )


def portal_step_get(*, partner: Partner, pk: int) -> ChecklistStep:
    step = portal_checklist(partner=partner).filter(pk=pk).first()
    if step is None:
        raise Http404("No such checklist step.")
    return step


def portal_documents(*, partner: Partner) -> QuerySet[Document]:
    return Document.objects.filter(partner=partner).select_related("uploaded_by")


def portal_document_get(*, partner: Partner, pk: int) -> Document:
    document = portal_documents(partner=partner).filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def portal_agreements(*, partner: Partner) -> QuerySet[Agreement]:
    """The partner's agreements; drafts stay internal to the CSP until sent for signature."""
    return (
        Agreement.objects.filter(partner=partner)
        .exclude(status=AgreementStatus.DRAFT)
        .select_related("signed_document", "accepted_by")
    )


def portal_agreement_get(*, partner: Partner, pk: int) -> Agreement:
    agreement = portal_agreements(partner=partner).filter(pk=pk).first()
    if agreement is None:
        raise Http404("No such agreement.")
    return agreement


def agreement_can_be_accepted(agreement: Agreement) -> bool:
    return agreement.accepted_by_partner_at is None and agreement.status in (
        AgreementStatus.PENDING_SIGNATURE,
        AgreementStatus.ACTIVE,
    )


def portal_change_requests(*, partner: Partner, kind: str | None = None) -> QuerySet[ChangeRequest]:
    queryset = ChangeRequest.objects.filter(partner=partner).select_related(
        "requested_by", "decided_by"
    )
    return queryset.filter(kind=kind) if kind else queryset


def portal_bank_details(*, partner: Partner) -> BankDetails | None:
    return BankDetails.objects.filter(partner=partner).first()


def portal_colleagues(*, partner: Partner) -> QuerySet[PartnerUser]:
    return (
        PartnerUser.objects.filter(partner=partner).select_related("user").order_by("user__email")
    )


def portal_invitations_pending(*, partner: Partner) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        partner=partner, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def application_by_token(*, raw_token: str) -> Application | None:
    """The active tenant's unconfirmed, unexpired application whose emailed token is this."""
    return (
        Application.objects.select_related("partner_type")
        .filter(
            token_digest=token_digest(raw_token),
            confirmed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def invitation_by_token(*, raw_token: str) -> Invitation | None:
    """The active tenant's open invitation of a partner still using the portal, or None."""
    return (
        Invitation.objects.select_related("partner", "invited_by")
        .filter(
            token_digest=token_digest(raw_token),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .exclude(partner__status=PartnerStatus.EXITED)
        .first()
    )
