"""Relationship management: the interaction log and disputes raised by either side."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import require_current_tenant
from partnerhub.tenancy.models import Membership
from partners.models import (
    Agreement,
    Dispute,
    DisputeComment,
    DisputeStatus,
    DocumentType,
    Interaction,
    Partner,
    PartnerStatus,
    PartnerUser,
)
from partners.services.documents import document_upload
from partners.services.notifications import notify

# Roles that handle partners on the CSP side: they receive what has no account owner.
CSP_HANDLER_ROLES = (Role.ADMIN, Role.PARTNER_MANAGER)

# The dispute lifecycle, in one place.
DISPUTE_TRANSITIONS: dict[str, frozenset[str]] = {
    DisputeStatus.OPEN: frozenset({DisputeStatus.INVESTIGATING}),
    DisputeStatus.INVESTIGATING: frozenset({DisputeStatus.RESOLVED, DisputeStatus.REJECTED}),
    DisputeStatus.RESOLVED: frozenset(),
    DisputeStatus.REJECTED: frozenset(),
}
DISPUTE_CLOSED = frozenset({DisputeStatus.RESOLVED, DisputeStatus.REJECTED})


# --- recipients -------------------------------------------------------------------------------


def csp_handlers() -> list[User]:
    """The tenant's admins and partner managers."""
    return [
        m.user
        for m in Membership.objects.filter(role__in=CSP_HANDLER_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ]


def partner_csp_recipients(partner: Partner) -> list[User]:
    """Who on the CSP side hears about a partner: its account owner, else the handlers."""
    if partner.account_owner_id is not None:
        owner = partner.account_owner
        if owner is not None and owner.is_active:
            return [owner]
    return csp_handlers()


def partner_portal_users(partner: Partner) -> list[User]:
    return [
        link.user
        for link in PartnerUser.objects.filter(partner=partner, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ]


# --- interactions -----------------------------------------------------------------------------


@transaction.atomic
def interaction_log(
    *,
    partner: Partner,
    kind: str,
    occurred_on: date,
    subject: str,
    logged_by: User | None,
    participants: str = "",
    notes: str = "",
    next_steps: str = "",
    follow_up_on: date | None = None,
) -> Interaction:
    """Log a meeting, call, email, QBR...; the partner's last contact becomes the latest date."""
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": "An interaction cannot be logged in the future."})
    if follow_up_on is not None and follow_up_on < occurred_on:
        raise ValidationError({"follow_up_on": "The follow-up cannot be before the interaction."})
    interaction = Interaction(
        tenant=require_current_tenant(),
        partner=partner,
        kind=kind,
        occurred_on=occurred_on,
        subject=subject.strip(),
        participants=participants.strip(),
        notes=notes.strip(),
        next_steps=next_steps.strip(),
        follow_up_on=follow_up_on,
        logged_by=logged_by,
    )
    interaction.full_clean(exclude=["logged_by"])
    interaction.save()
    partners_last_contact_refresh(partner_ids=[partner.pk])
    partner.refresh_from_db(fields=["last_contact_on"])
    return interaction


def partners_last_contact_refresh(*, partner_ids: Iterable[int]) -> int:
    """Set each partner's ``last_contact_on`` to its latest interaction, in one UPDATE."""
    latest = (
        Interaction.objects.filter(partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(latest=Max("occurred_on"))
        .values("latest")
    )
    return Partner.objects.filter(pk__in=list(partner_ids)).update(last_contact_on=Subquery(latest))


# --- disputes ---------------------------------------------------------------------------------


def _csp_url(dispute: Dispute) -> str:
    return reverse("partners:dispute-detail", kwargs={"pk": dispute.pk})


def _portal_url(dispute: Dispute) -> str:
    return reverse("portal:dispute-detail", kwargs={"pk": dispute.pk})


def _dispute_csp_recipients(dispute: Dispute) -> list[User]:
    if dispute.owner_id is not None and dispute.owner is not None and dispute.owner.is_active:
        return [dispute.owner]
    return partner_csp_recipients(dispute.partner)


def _notify_side(
    dispute: Dispute, *, to_partner: bool, title: str, body: str, key: str, exclude: User | None
) -> None:
    """Tell one side of the dispute (never the person who acted) what happened."""
    users = (
        partner_portal_users(dispute.partner) if to_partner else _dispute_csp_recipients(dispute)
    )
    users = [u for u in users if exclude is None or u.pk != exclude.pk]
    notify(
        users=users,
        kind="dispute_updated",
        title=title,
        body=body,
        url=_portal_url(dispute) if to_partner else _csp_url(dispute),
        partner=dispute.partner,
        dedup_key=f"dispute:{dispute.pk}:{key}",
    )


@transaction.atomic
def dispute_open(
    *,
    partner: Partner,
    category: str,
    title: str,
    description: str,
    raised_by: User | None,
    by_partner: bool,
    agreement: Agreement | None = None,
    owner: User | None = None,
) -> Dispute:
    """Open a dispute, by CSP staff or by the partner in the portal; the other side hears of it."""
    if partner.status in (PartnerStatus.EXITED, PartnerStatus.REJECTED):
        raise ValidationError(
            {"partner": f"The partner is {partner.get_status_display().lower()}: no new disputes."}
        )
    if agreement is not None and agreement.partner_id != partner.pk:
        raise ValidationError({"agreement": "The agreement belongs to another partner."})
    if owner is not None:
        _check_handler(owner)
    dispute = Dispute(
        tenant=require_current_tenant(),
        partner=partner,
        category=category,
        title=title.strip(),
        description=description.strip(),
        agreement=agreement,
        owner=owner if not by_partner else None,
        raised_by=raised_by,
        raised_by_partner=by_partner,
        status=DisputeStatus.OPEN,
    )
    dispute.full_clean(exclude=["raised_by", "owner", "agreement"])
    dispute.save()
    side = "the partner" if by_partner else "the CSP"
    _notify_side(
        dispute,
        to_partner=not by_partner,
        title=f"New dispute: {dispute.title}",
        body=f"{partner.display_name}: {side} opened a {dispute.get_category_display().lower()} "
        f"dispute.\n\n{dispute.description}",
        key="opened",
        exclude=raised_by,
    )
    return dispute


@transaction.atomic
def dispute_comment_add(
    *,
    dispute: Dispute,
    author: User | None,
    body: str,
    from_partner: bool,
    upload: UploadedFile | None = None,
) -> DisputeComment:
    """Add a comment (optionally with an attachment) and tell the other side."""
    dispute = Dispute.objects.select_for_update().select_related("partner").get(pk=dispute.pk)
    if dispute.status in DISPUTE_CLOSED:
        raise ValidationError(
            f"The dispute is {dispute.get_status_display().lower()}: it takes no more comments."
        )
    if not body.strip():
        raise ValidationError({"body": "Write a comment."})
    attachment = None
    if upload is not None:
        attachment = document_upload(
            partner=dispute.partner,
            upload=upload,
            doc_type=DocumentType.EVIDENCE,
            uploaded_by=author,
            title=f"Dispute #{dispute.pk}: {upload.name or 'attachment'}",
        )
    comment = DisputeComment(
        tenant=dispute.tenant,
        dispute=dispute,
        author=author,
        from_partner=from_partner,
        body=body.strip(),
        attachment=attachment,
    )
    comment.full_clean(exclude=["dispute", "author", "attachment"])
    comment.save()
    who = "The partner" if from_partner else (author.full_name or author.email if author else "CSP")
    _notify_side(
        dispute,
        to_partner=not from_partner,
        title=f"New comment on dispute: {dispute.title}",
        body=f"{who} wrote:\n\n{comment.body}",
        key=f"comment:{comment.pk}",
        exclude=author,
    )
    return comment


@transaction.atomic
def dispute_transition(
    *, dispute: Dispute, to_status: str, actor: User | None, resolution: str = ""
) -> Dispute:
    """Move a dispute along ``open → investigating → resolved | rejected`` (CSP staff only).

    Closing needs a resolution text; ``investigating_at`` and ``closed_at`` time the stages.
    """
    dispute = Dispute.objects.select_for_update().select_related("partner").get(pk=dispute.pk)
    if to_status not in DisputeStatus.values:
        raise ValidationError({"to_status": f"Unknown status {to_status!r}."})
    allowed = DISPUTE_TRANSITIONS[DisputeStatus(dispute.status)]
    if to_status not in allowed:
        names = ", ".join(DisputeStatus(s).label.lower() for s in sorted(allowed)) or "nothing"
        raise ValidationError(
            {
                "to_status": f"A dispute that is {dispute.get_status_display().lower()} cannot "
                f"become {DisputeStatus(to_status).label.lower()} (allowed: {names})."
            }
        )
    now = timezone.now()
    if to_status in DISPUTE_CLOSED:
        if not resolution.strip():
            raise ValidationError(
                {"resolution": "Explain the resolution before closing the dispute."}
            )
        dispute.resolution = resolution.strip()
        dispute.closed_at = now
    if to_status == DisputeStatus.INVESTIGATING:
        dispute.investigating_at = now
        if dispute.owner_id is None and actor is not None:
            dispute.owner = actor
    dispute.status = to_status
    dispute.full_clean(exclude=["raised_by", "owner", "agreement"])
    dispute.save()
    label = dispute.get_status_display().lower()
    body = f"The dispute is now {label}."
    if dispute.resolution and to_status in DISPUTE_CLOSED:
        body += f"\n\nResolution: {dispute.resolution}"
    _notify_side(
        dispute,
        to_partner=True,
        title=f"Dispute {label}: {dispute.title}",
        body=body,
        key=f"status:{to_status}",
        exclude=actor,
    )
    # The owner hears about it too when someone else moved their dispute.
    if dispute.owner_id is not None and actor is not None and dispute.owner_id != actor.pk:
        _notify_side(
            dispute,
            to_partner=False,
            title=f"Dispute {label}: {dispute.title}",
            body=body,
            key=f"status:{to_status}",
            exclude=actor,
        )
    return dispute


def _check_handler(user: User) -> None:
    if not Membership.objects.filter(user=user, role__in=CSP_HANDLER_ROLES).exists():
        raise ValidationError(
            {"owner": "The owner must be an admin or partner manager of this tenant."}
        )


@transaction.atomic
def dispute_assign(*, dispute: Dispute, owner: User, actor: User | None) -> Dispute:
    """Make ``owner`` (an admin or partner manager) responsible for the dispute."""
    dispute = Dispute.objects.select_for_update().select_related("partner").get(pk=dispute.pk)
    if dispute.status in DISPUTE_CLOSED:
        raise ValidationError(
            f"The dispute is {dispute.get_status_display().lower()}: it cannot be reassigned."
        )
    _check_handler(owner)
    if dispute.owner_id == owner.pk:
        return dispute
    dispute.owner = owner
    dispute.full_clean(exclude=["raised_by", "owner", "agreement"])
    dispute.save()
    if actor is None or actor.pk != owner.pk:
        notify(
            users=[owner],
            kind="dispute_updated",
            title=f"Dispute assigned to you: {dispute.title}",
            body=f"{dispute.partner.display_name}: {dispute.description}",
            url=_csp_url(dispute),
            partner=dispute.partner,
            dedup_key=f"dispute:{dispute.pk}:assigned:{owner.pk}:{timezone.now().isoformat()}",
            is_task=True,
        )
    return dispute
