"""The self-service portal: public applications, colleague invitations, change requests and the
partner's own checklist steps. Tokens are emailed once; only their SHA-256 digest is stored."""

from __future__ import annotations

import secrets
from copy import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from partnerhub.accounts.models import User, token_digest
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import require_current_tenant
from partnerhub.tenancy.models import Membership
from partnerhub.tenancy.services import membership_set
from partners.models import (
    Agreement,
    Application,
    BankDetails,
    ChangeRequest,
    ChecklistStep,
    Document,
    DocumentType,
    Invitation,
    Partner,
    PartnerStatus,
    PartnerType,
    PartnerUser,
)
from partners.models.registry import country_validator
from partners.services.documents import document_upload
from partners.services.registry import (
    BANK_FIELDS,
    BIC_RE,
    COMPANY_CHANGE_FIELDS,
    CURRENCY_RE,
    contact_create,
    iban_is_valid,
    partner_create,
)

APPLICATION_TTL = timedelta(days=3)
INVITATION_TTL = timedelta(days=7)
# Until the hardening issue brings rate limits: no address gets more than this many emails.
MAX_PENDING_PER_EMAIL = 3

# What a partner may ask to change; the registry applies it on approval.
COMPANY_FIELDS = COMPANY_CHANGE_FIELDS
BANK_REQUIRED = ("account_holder", "iban")

# The document type a checklist step's evidence is filed under.
STEP_DOCUMENT_TYPES = {
    "company_documents": DocumentType.COMPANY_REGISTRATION,
    "tax_form": DocumentType.TAX_FORM,
    "content_licence": DocumentType.CONTENT_LICENCE,
    "insurance": DocumentType.INSURANCE,
    "certifications": DocumentType.CERTIFICATION,
    "contract_signed": DocumentType.CONTRACT,
}


# --- helpers ---------------------------------------------------------------------------------


def _new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, token_digest(raw)


def _absolute(site_url: str | None, path: str) -> str:
    base = (site_url or getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def _normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    EmailValidator(message="Enter a valid email address.")(email)
    return email


def _email_after_commit(*, subject: str, body: str, to: str) -> None:
    transaction.on_commit(
        lambda: send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
    )


def _staff_of(roles: tuple[Role, ...]) -> list[User]:
    """Active users of the current tenant with one of ``roles``."""
    return [
        m.user
        for m in Membership.objects.filter(role__in=roles, user__is_active=True).select_related(
            "user"
        )
    ]


def _partner_url(partner: Partner) -> str:
    try:
        return reverse("partners:detail", kwargs={"pk": partner.pk})
    except NoReverseMatch:  # the registry pages are not mounted (yet)
        return f"/partners/{partner.pk}/"


def legal_name_taken(legal_name: str, *, exclude_pk: int | None = None) -> bool:
    queryset = Partner.objects.filter(legal_name__iexact=legal_name.strip())
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.exists()


def _legal_name_error(legal_name: str) -> ValidationError:
    return ValidationError(
        {
            "legal_name": (
                f"A partner named “{legal_name}” is already registered. If it is your company, "
                "ask a colleague who uses the partner portal to invite you."
            )
        },
        code="duplicate",
    )


def _portal_account(*, email: str, full_name: str, password: str) -> User:
    """The user who gets the portal account: new, or existing in another tenant (who proves it
    with their current password). Someone who already belongs to this tenant is refused."""
    tenant = require_current_tenant()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        if Membership.objects.filter(user=user).exists():
            raise ValidationError(
                f"{email} already has an account in {tenant.name}: sign in instead.",
                code="account_exists",
            )
        if not user.is_active or not user.check_password(password):
            raise ValidationError(
                {"password": "This is not the password of your existing PartnerHub account."},
                code="wrong_password",
            )
        return user
    candidate = User(email=email, full_name=full_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}, code="password") from exc
    return User.objects.create_user(email, password, full_name=full_name[:200])


def _portal_link(*, user: User, partner: Partner) -> PartnerUser:
    membership_set(tenant=require_current_tenant(), user=user, role=Role.PARTNER)
    link = PartnerUser(user=user, partner=partner)
    link.full_clean(exclude=["tenant"])
    link.save()
    return link


# --- applications ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApplication:
    application: Application
    raw_token: str  # emailed once, never stored
    confirm_url: str


@dataclass(frozen=True)
class ConfirmedApplication:
    application: Application
    partner: Partner
    user: User


def application_confirm_path(*, raw_token: str) -> str:
    tenant = require_current_tenant()
    return reverse("portal:apply-confirm", kwargs={"tenant_slug": tenant.slug, "token": raw_token})


@transaction.atomic
def application_submit(
    *,
    legal_name: str,
    country: str,
    partner_type: PartnerType,
    offering: str,
    contact_name: str,
    contact_email: str,
    trading_name: str = "",
    website: str = "",
    contact_phone: str = "",
    site_url: str | None = None,
) -> IssuedApplication:
    """Record a 'become a partner' application and email its confirmation link (valid 3 days).

    Nothing exists for the tenant's staff until the applicant confirms their email address.
    """
    tenant = require_current_tenant()
    legal_name = legal_name.strip()
    country = country.strip().upper()
    email = _normalise_email(contact_email)
    country_validator(country)
    if legal_name_taken(legal_name):
        raise _legal_name_error(legal_name)
    now = timezone.now()
    pending = Application.objects.filter(
        contact_email__iexact=email, confirmed_at__isnull=True, expires_at__gt=now
    ).count()
    if pending >= MAX_PENDING_PER_EMAIL:
        raise ValidationError(
            {
                "contact_email": (
                    f"{email} already has {pending} applications waiting for confirmation: "
                    "use the link in one of those emails, or try again when they have expired."
                )
            },
            code="too_many_pending",
        )
    raw, digest = _new_token()
    application = Application(
        legal_name=legal_name,
        trading_name=trading_name.strip(),
        country=country,
        website=website.strip(),
        partner_type=partner_type,
        offering=offering.strip(),
        contact_name=contact_name.strip(),
        contact_email=email,
        contact_phone=contact_phone.strip(),
        token_digest=digest,
        expires_at=now + APPLICATION_TTL,
    )
    application.full_clean(exclude=["tenant"])
    application.save()
    url = _absolute(site_url, application_confirm_path(raw_token=raw))
    _email_after_commit(
        subject=f"[{tenant.name}] Confirm your partner application",
        body=(
            f"Hello {application.contact_name},\n\n"
            f"thank you for applying to become a partner of {tenant.name} "
            f"as {application.legal_name}.\n\n"
            "Confirm your email address and set up your partner portal account here:\n\n"
            f"{url}\n\n"
            f"The link works once and expires in {APPLICATION_TTL.days} days. "
            "If you did not apply, ignore this email: nothing happens without your confirmation.\n"
        ),
        to=email,
    )
    return IssuedApplication(application=application, raw_token=raw, confirm_url=url)


@transaction.atomic
def application_confirm(*, application: Application, password: str) -> ConfirmedApplication:
    """Turn a confirmed application into a partner (status ``applied``) with its first portal
    user, and tell the tenant's partner managers and admins. All or nothing."""
    tenant = require_current_tenant()
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.confirmed_at is not None or application.expires_at <= timezone.now():
        raise ValidationError(
            "This confirmation link has already been used or has expired.", code="token_invalid"
        )
    if legal_name_taken(application.legal_name):
        raise _legal_name_error(application.legal_name)
    user = _portal_account(
        email=application.contact_email, full_name=application.contact_name, password=password
    )
    # The registry creates it in status ``applied`` and starts its onboarding checklist.
    partner = partner_create(
        actor=user,
        legal_name=application.legal_name,
        trading_name=application.trading_name,
        partner_type=application.partner_type,
        country=application.country,
        website=application.website,
        offering=application.offering,
    )
    contact_create(
        partner=partner,
        name=application.contact_name,
        role="Applicant",
        email=application.contact_email,
        phone=application.contact_phone,
        is_primary=True,
    )
    _portal_link(user=user, partner=partner)
    application.confirmed_at = timezone.now()
    application.partner = partner
    application.save(update_fields=["confirmed_at", "partner"])

    from partners.services.notifications import notify

    notify(
        users=_staff_of((Role.PARTNER_MANAGER, Role.ADMIN)),
        kind="application_received",
        title=f"New partner application: {partner.legal_name}",
        body=(
            f"{application.contact_name} <{application.contact_email}> applied to become a "
            f"{application.partner_type.name.lower()} partner of {tenant.name}.\n\n"
            f"What they offer: {application.offering}"
        ),
        url=_partner_url(partner),
        partner=partner,
        dedup_key=f"application:{application.pk}",
    )
    return ConfirmedApplication(application=application, partner=partner, user=user)


# --- invitations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    raw_token: str
    accept_url: str


def invitation_accept_path(*, raw_token: str) -> str:
    tenant = require_current_tenant()
    return reverse("portal:invite-accept", kwargs={"tenant_slug": tenant.slug, "token": raw_token})


@transaction.atomic
def invitation_create(
    *, partner: Partner, email: str, invited_by: User, site_url: str | None = None
) -> IssuedInvitation:
    """A partner user invites a colleague to the same partner; the link is valid 7 days."""
    tenant = require_current_tenant()
    email = _normalise_email(email)
    if partner.status == PartnerStatus.EXITED:
        raise ValidationError("An exited partner cannot invite anyone.", code="partner_exited")
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and Membership.objects.filter(user=existing).exists():
        raise ValidationError(
            {"email": f"{email} already has an account in {tenant.name}."}, code="account_exists"
        )
    now = timezone.now()
    pending = Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, expires_at__gt=now
    ).count()
    if pending >= MAX_PENDING_PER_EMAIL:
        raise ValidationError(
            {"email": f"{email} already has {pending} invitations waiting to be accepted."},
            code="too_many_pending",
        )
    raw, digest = _new_token()
    invitation = Invitation(
        partner=partner,
        email=email,
        invited_by=invited_by,
        token_digest=digest,
        expires_at=now + INVITATION_TTL,
    )
    invitation.full_clean(exclude=["tenant"])
    invitation.save()
    url = _absolute(site_url, invitation_accept_path(raw_token=raw))
    inviter = invited_by.full_name or invited_by.email
    _email_after_commit(
        subject=f"[{tenant.name}] {inviter} invites you to the partner portal",
        body=(
            f"Hello,\n\n{inviter} invites you to the {tenant.name} partner portal "
            f"of {partner.display_name}.\n\n"
            f"Set up your account here:\n\n{url}\n\n"
            f"The link works once and expires in {INVITATION_TTL.days} days.\n"
        ),
        to=email,
    )
    return IssuedInvitation(invitation=invitation, raw_token=raw, accept_url=url)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str, full_name: str = "") -> User:
    """The invitee's portal account: a user with the ``partner`` role bound to the partner."""
    invitation = (
        Invitation.objects.select_for_update().select_related("partner").get(pk=invitation.pk)
    )
    if invitation.accepted_at is not None or invitation.expires_at <= timezone.now():
        raise ValidationError(
            "This invitation has already been used or has expired.", code="token_invalid"
        )
    if invitation.partner.status == PartnerStatus.EXITED:
        raise ValidationError("This partner no longer uses the portal.", code="partner_exited")
    user = _portal_account(email=invitation.email, full_name=full_name.strip(), password=password)
    _portal_link(user=user, partner=invitation.partner)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return user


# --- change requests -------------------------------------------------------------------------


def _text_payload(payload: Any, allowed: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(payload, dict) or not payload:
        raise ValidationError(
            {"payload": f"Give the fields to change, some of: {', '.join(allowed)}."},
            code="invalid",
        )
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                "payload": (
                    f"Unknown field(s): {', '.join(unknown)}. "
                    f"These can be changed: {', '.join(allowed)}."
                )
            },
            code="invalid",
        )
    cleaned: dict[str, str] = {}
    for key, value in payload.items():
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValidationError({key: "Give a text value."}, code="invalid")
        cleaned[key] = value.strip()
    return cleaned


def _clean_company(partner: Partner, payload: Any) -> dict[str, str]:
    values = _text_payload(payload, COMPANY_FIELDS)
    if "country" in values:
        values["country"] = values["country"].upper()
    changed = {k: v for k, v in values.items() if v != (getattr(partner, k) or "")}
    if not changed:
        raise ValidationError(
            {"payload": "Nothing to change: these are the current company details."},
            code="unchanged",
        )
    candidate = copy(partner)
    for key, value in changed.items():
        setattr(candidate, key, value)
    candidate.clean_fields(
        exclude=[f.name for f in Partner._meta.concrete_fields if f.name not in changed]
    )
    if "legal_name" in changed and legal_name_taken(changed["legal_name"], exclude_pk=partner.pk):
        raise ValidationError(
            {"legal_name": f"Another partner is already registered as “{changed['legal_name']}”."},
            code="duplicate",
        )
    return changed


def _clean_bank(partner: Partner, payload: Any) -> dict[str, str]:
    values = _text_payload(payload, BANK_FIELDS)
    for key in ("iban", "swift_bic", "currency"):
        if key in values:
            values[key] = values[key].replace(" ", "").upper()
    current = BankDetails.objects.filter(partner=partner).first()
    if current is None:
        missing = [k for k in BANK_REQUIRED if not values.get(k)]
        if missing:
            raise ValidationError(
                {k: "Required for the first bank details." for k in missing}, code="required"
            )
    errors: dict[str, str] = {}
    if "iban" in values and not iban_is_valid(values["iban"]):
        errors["iban"] = "Not a valid IBAN (check the country code, length and check digits)."
    if values.get("swift_bic") and not BIC_RE.match(values["swift_bic"]):
        errors["swift_bic"] = "A SWIFT/BIC code has 8 or 11 letters and digits, e.g. DEUTDEFF."
    if "currency" in values and not CURRENCY_RE.match(values["currency"]):
        errors["currency"] = "Use an ISO 4217 code such as EUR."
    for key in BANK_REQUIRED:
        if key in values and not values[key]:
            errors[key] = "This field cannot be blank."
    if errors:
        raise ValidationError(errors, code="invalid")
    if current is not None:
        values = {k: v for k, v in values.items() if v != (getattr(current, k) or "")}
        if not values:
            raise ValidationError(
                {"payload": "Nothing to change: these are the current bank details."},
                code="unchanged",
            )
    return values


@transaction.atomic
def change_request_create(
    *, partner: Partner, kind: str, payload: Any, requested_by: User
) -> ChangeRequest:
    """A partner's change of its company or bank details. It changes nothing until CSP staff
    approve it (``partners.services.registry.change_request_approve``)."""
    if kind not in ChangeRequest.Kind.values:
        raise ValidationError(
            {"kind": f"Choose one of: {', '.join(ChangeRequest.Kind.values)}."}, code="invalid"
        )
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    pending = ChangeRequest.objects.filter(
        partner=partner, kind=kind, status=ChangeRequest.Status.PENDING
    ).exists()
    if pending:
        raise ValidationError(
            f"A change of your {ChangeRequest.Kind(kind).label.lower()} is already waiting for "
            "approval; you can send another once it has been decided.",
            code="pending_exists",
        )
    cleaned = (
        _clean_company(partner, payload)
        if kind == ChangeRequest.Kind.COMPANY
        else _clean_bank(partner, payload)
    )
    request = ChangeRequest(partner=partner, kind=kind, payload=cleaned, requested_by=requested_by)
    request.full_clean(exclude=["tenant"])
    request.save()

    from partners.services.notifications import notify

    if kind == ChangeRequest.Kind.BANK:
        reviewers = _staff_of((Role.FINANCE, Role.ADMIN))
    elif partner.account_owner is not None:
        reviewers = [partner.account_owner]
    else:
        reviewers = _staff_of((Role.PARTNER_MANAGER, Role.ADMIN))
    notify(
        users=reviewers,
        kind="change_requested",
        title=f"{partner.display_name} asks to change its {request.get_kind_display().lower()}",
        body="The change applies once approved on the partner's page.",
        url=_partner_url(partner),
        partner=partner,
        dedup_key=f"change_request:{request.pk}",
    )
    return request


# --- the partner's own checklist steps and agreements -----------------------------------------


@transaction.atomic
def portal_step_complete(
    *,
    partner: Partner,
    step: ChecklistStep,
    actor: User,
    note: str = "",
    document: Document | None = None,
    upload: UploadedFile | None = None,
) -> ChecklistStep:
    """The partner completes one of its checklist steps, with a note and/or a document (an
    existing one of the partner, or a new upload checked by content). All or nothing: when the
    step cannot be completed, a new upload is removed again."""
    from partners.services.onboarding import checklist_step_complete

    if step.partner_id != partner.pk or (
        document is not None and document.partner_id != partner.pk
    ):
        raise ValidationError("Not found.", code="not_found")
    uploaded = None
    if upload is not None:
        uploaded = document_upload(
            partner=partner,
            upload=upload,
            doc_type=STEP_DOCUMENT_TYPES.get(step.key, DocumentType.EVIDENCE),
            uploaded_by=actor,
            title=step.title,
        )
        document = uploaded
    try:
        return checklist_step_complete(
            step=step, actor=actor, party="partner", note=note.strip(), document=document
        )
    except Exception:
        if uploaded is not None:
            uploaded.file.delete(save=False)
        raise


@transaction.atomic
def portal_agreement_accept(*, partner: Partner, agreement: Agreement, actor: User) -> Agreement:
    """The partner accepts one of its agreements (the rules live in the agreements service)."""
    from partners.services.agreements import agreement_accept

    if agreement.partner_id != partner.pk:
        raise ValidationError("Not found.", code="not_found")
    return agreement_accept(agreement=agreement, user=actor)
