"""Writes of the partner registry: partners, tags, contacts, bank details, documents, types,
tiers, and the CSP's decision on a partner's change request."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Perm, role_has_perm
from partnerhub.tenancy.context import require_current_tenant
from partners.models import (
    BankDetails,
    ChangeRequest,
    Contact,
    Document,
    Partner,
    PartnerStatus,
    PartnerTag,
    PartnerTier,
    PartnerType,
    ProgramSettings,
    Tag,
)
from partners.selectors.registry import staff_users
from partners.services.documents import document_upload

# What CSP staff edit on a partner; status, risk level and last contact belong to the
# onboarding and relationship workflows.
PARTNER_FIELDS = (
    "legal_name",
    "trading_name",
    "registration_number",
    "tax_id",
    "country",
    "website",
    "offering",
    "partner_type",
    "tier",
    "parent",
    "account_owner",
)
# What a partner may ask to change through a change request.
COMPANY_CHANGE_FIELDS = (
    "legal_name",
    "trading_name",
    "registration_number",
    "tax_id",
    "country",
    "website",
)
BANK_FIELDS = ("account_holder", "iban", "swift_bic", "bank_name", "currency")

IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


# --- Partners ------------------------------------------------------------------------------


def _check_partner_links(partner: Partner) -> None:
    errors: dict[str, str] = {}
    duplicates = Partner.objects.filter(legal_name__iexact=partner.legal_name)
    if partner.pk:
        duplicates = duplicates.exclude(pk=partner.pk)
    if partner.legal_name and duplicates.exists():
        errors["legal_name"] = "A partner with this legal name already exists."
    if partner.account_owner_id and not staff_users().filter(pk=partner.account_owner_id).exists():
        errors["account_owner"] = "The account owner must be a staff member of this tenant."
    if partner.parent_id:
        if partner.pk and partner.parent_id == partner.pk:
            errors["parent"] = "A partner cannot be its own parent."
        elif partner.pk:
            # Walk up from the new parent: meeting this partner would close a loop.
            seen: set[int] = set()
            current: int | None = partner.parent_id
            while current is not None and current not in seen:
                if current == partner.pk:
                    errors["parent"] = "This parent would make the group a loop."
                    break
                seen.add(current)
                current = (
                    Partner.objects.filter(pk=current).values_list("parent_id", flat=True).first()
                )
    if errors:
        raise ValidationError(errors)


def _normalise_partner(partner: Partner) -> None:
    partner.legal_name = partner.legal_name.strip()
    partner.trading_name = partner.trading_name.strip()
    partner.country = partner.country.strip().upper()


@transaction.atomic
def partner_create(
    *,
    actor: User | None,
    legal_name: str,
    partner_type: PartnerType,
    country: str,
    trading_name: str = "",
    registration_number: str = "",
    tax_id: str = "",
    website: str = "",
    offering: str = "",
    tier: PartnerTier | None = None,
    parent: Partner | None = None,
    account_owner: User | None = None,
    tags: Iterable[str] = (),
) -> Partner:
    """Register a partner (status ``applied``) and start its onboarding."""
    partner = Partner(
        tenant=require_current_tenant(),
        legal_name=legal_name,
        partner_type=partner_type,
        country=country,
        trading_name=trading_name,
        registration_number=registration_number,
        tax_id=tax_id,
        website=website,
        offering=offering,
        tier=tier,
        parent=parent,
        account_owner=account_owner,
        status=PartnerStatus.APPLIED,
    )
    _normalise_partner(partner)
    _check_partner_links(partner)
    partner.full_clean()
    partner.save()
    partner_tags_set(partner=partner, names=tags)
    # Imported here: the onboarding services import the registry's models and selectors.
    from partners.services.onboarding import onboarding_start

    onboarding_start(partner=partner, actor=actor)
    return partner


@transaction.atomic
def partner_update(
    *, partner: Partner, actor: User | None, tags: Iterable[str] | None = None, **fields: Any
) -> Partner:
    """CSP staff edit a partner's registry data (not its status: that is onboarding's)."""
    unknown = set(fields) - set(PARTNER_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(partner, name, value)
    _normalise_partner(partner)
    _check_partner_links(partner)
    partner.full_clean()
    partner.save()
    if tags is not None:
        partner_tags_set(partner=partner, names=tags)
    return partner


# --- Tags ----------------------------------------------------------------------------------


def _clean_tag_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if len(cleaned) > 50:
        raise ValidationError({"tags": f"Tag “{cleaned[:20]}…” is longer than 50 characters."})
    return cleaned


@transaction.atomic
def tag_create(*, name: str) -> Tag:
    tag = Tag(tenant=require_current_tenant(), name=_clean_tag_name(name))
    if not tag.name:
        raise ValidationError({"name": "A tag needs a name."})
    if Tag.objects.filter(name__iexact=tag.name).exists():
        raise ValidationError({"name": f"The tag “{tag.name}” already exists."})
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def partner_tags_set(*, partner: Partner, names: Iterable[str]) -> list[Tag]:
    """Make the partner's tags exactly ``names`` (case-insensitive; new names become tags).

    PartnerTag rows are written one by one: the through model needs its tenant, and each
    link and unlink lands in the audit trail.
    """
    wanted: dict[str, str] = {}
    for raw in names:
        name = _clean_tag_name(raw)
        if name:
            wanted.setdefault(name.lower(), name)
    existing: dict[str, Tag] = {}
    if wanted:
        match = Q()
        for name in wanted.values():
            match |= Q(name__iexact=name)
        existing = {t.name.lower(): t for t in Tag.objects.filter(match)}
    tags = [existing.get(key) or tag_create(name=name) for key, name in wanted.items()]
    wanted_ids = {t.pk for t in tags}
    current = {link.tag_id: link for link in PartnerTag.objects.filter(partner=partner)}
    for tag_id, link in current.items():
        if tag_id not in wanted_ids:
            link.delete()
    tenant = require_current_tenant()
    for tag in tags:
        if tag.pk not in current:
            link = PartnerTag(tenant=tenant, partner=partner, tag=tag)
            link.full_clean()
            link.save()
    return sorted(tags, key=lambda t: t.name.lower())


# --- Contacts ------------------------------------------------------------------------------


def _unset_other_primaries(contact: Contact) -> None:
    others = Contact.objects.filter(partner_id=contact.partner_id, is_primary=True)
    if contact.pk:
        others = others.exclude(pk=contact.pk)
    for other in others.select_for_update():
        other.is_primary = False
        other.save(update_fields=["is_primary"])


@transaction.atomic
def contact_create(
    *,
    partner: Partner,
    name: str,
    role: str = "",
    email: str = "",
    phone: str = "",
    is_primary: bool = False,
) -> Contact:
    """Add a contact; the first contact of a partner, or one marked primary, is the primary."""
    if not Contact.objects.filter(partner=partner, is_primary=True).exists():
        is_primary = True
    contact = Contact(
        tenant=require_current_tenant(),
        partner=partner,
        name=name.strip(),
        role=role.strip(),
        email=email.strip(),
        phone=phone.strip(),
        is_primary=is_primary,
    )
    contact.full_clean(validate_constraints=False)
    if is_primary:
        _unset_other_primaries(contact)
    contact.save()
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, **fields: Any) -> Contact:
    """Change a contact; making it primary unsets the partner's previous primary."""
    unknown = set(fields) - {"name", "role", "email", "phone", "is_primary"}
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(contact, name, value.strip() if isinstance(value, str) else value)
    contact.full_clean(validate_constraints=False)
    if contact.is_primary:
        _unset_other_primaries(contact)
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    contact.delete()


# --- Bank details --------------------------------------------------------------------------


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 shape and the mod-97 check digits."""
    if not IBAN_RE.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _require(role: str | None, perm: Perm, message: str) -> None:
    if not role_has_perm(role, perm):
        raise PermissionDenied(message)


@transaction.atomic
def bank_details_set(
    *,
    partner: Partner,
    actor_role: str | None,
    account_holder: str,
    iban: str,
    swift_bic: str = "",
    bank_name: str = "",
    currency: str = "EUR",
) -> BankDetails:
    """Set the partner's payout account. Finance and admins only; audited with the IBAN masked."""
    _require(
        actor_role,
        Perm.PARTNERS_BANK_DETAILS_CHANGE,
        "Only finance and tenant admins can change bank details.",
    )
    iban = re.sub(r"\s+", "", iban).upper()
    swift_bic = re.sub(r"\s+", "", swift_bic).upper()
    currency = currency.strip().upper()
    errors: dict[str, str] = {}
    if not account_holder.strip():
        errors["account_holder"] = "Give the name of the account holder."
    if not iban_is_valid(iban):
        errors["iban"] = "This is not a valid IBAN (check the country code, length and digits)."
    if swift_bic and not BIC_RE.match(swift_bic):
        errors["swift_bic"] = "A SWIFT/BIC code has 8 or 11 letters and digits, e.g. DEUTDEFF."
    if not CURRENCY_RE.match(currency):
        errors["currency"] = "Use an ISO 4217 currency code such as EUR."
    if errors:
        raise ValidationError(errors)
    details = BankDetails.objects.filter(partner=partner).first() or BankDetails(
        tenant=require_current_tenant(), partner=partner
    )
    details.account_holder = account_holder.strip()
    details.iban = iban
    details.swift_bic = swift_bic
    details.bank_name = bank_name.strip()
    details.currency = currency
    details.full_clean(validate_unique=False)
    details.save()
    return details


# --- Documents -----------------------------------------------------------------------------


@transaction.atomic
def partner_document_add(
    *,
    partner: Partner,
    upload: UploadedFile,
    doc_type: str,
    uploaded_by: User | None,
    title: str = "",
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> Document:
    """Store a partner's document (checked by content and size, see services.documents)."""
    if issued_on and expires_on and expires_on < issued_on:
        raise ValidationError({"expires_on": "The expiry date is before the issue date."})
    return document_upload(
        partner=partner,
        upload=upload,
        doc_type=doc_type,
        uploaded_by=uploaded_by,
        title=title.strip(),
        issued_on=issued_on,
        expires_on=expires_on,
    )


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Remove the row now and the stored file once the deletion is committed."""
    storage, name = document.file.storage, document.file.name
    document.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


# --- Partner types and tiers ---------------------------------------------------------------


# Bounds of the programme settings: a threshold of zero days would flag every partner, and
# uploads are read into memory to check their content.
PROGRAM_SETTING_BOUNDS: dict[str, tuple[int, int]] = {
    "quiet_after_days": (1, 365),
    "reminder_window_days": (1, 365),
    "max_upload_mb": (1, 50),
}


@transaction.atomic
def program_settings_update(
    *,
    quiet_after_days: int | None = None,
    reminder_window_days: int | None = None,
    max_upload_mb: int | None = None,
) -> ProgramSettings:
    """Change the tenant's quiet threshold, reminder window and upload limit (admins); the
    reminders job, the quiet flags and the upload checks read them from here (audited)."""
    values = {
        "quiet_after_days": quiet_after_days,
        "reminder_window_days": reminder_window_days,
        "max_upload_mb": max_upload_mb,
    }
    errors = {
        name: f"Use a whole number from {low} to {high}."
        for name, value in values.items()
        if value is not None
        for low, high in [PROGRAM_SETTING_BOUNDS[name]]
        if not low <= value <= high
    }
    if errors:
        raise ValidationError(errors)
    row, _ = ProgramSettings.objects.select_for_update().get_or_create(
        tenant=require_current_tenant()
    )
    for name, value in values.items():
        if value is not None:
            setattr(row, name, value)
    row.full_clean(exclude=["tenant"], validate_constraints=False)
    row.save()
    return row


@transaction.atomic
def partner_type_create(*, name: str, key: str = "") -> PartnerType:
    """A tenant's own partner type, next to the five built-in ones."""
    name = " ".join(name.split())
    key = slugify(key or name).replace("-", "_")[:50]
    if not name or not key:
        raise ValidationError({"name": "A partner type needs a name."})
    if PartnerType.objects.filter(key=key).exists():
        raise ValidationError({"name": f"A partner type with the key “{key}” already exists."})
    if PartnerType.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A partner type named “{name}” already exists."})
    partner_type = PartnerType(
        tenant=require_current_tenant(), key=key, name=name, is_builtin=False
    )
    partner_type.full_clean()
    partner_type.save()
    return partner_type


@transaction.atomic
def partner_type_delete(*, partner_type: PartnerType) -> None:
    if partner_type.is_builtin:
        raise ValidationError("Built-in partner types cannot be deleted.")
    try:
        partner_type.delete()
    except ProtectedError as exc:
        raise ValidationError(
            f"“{partner_type.name}” is used by partners; change their type first."
        ) from exc


@transaction.atomic
def partner_tier_create(*, name: str, rank: int = 0) -> PartnerTier:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "A tier needs a name."})
    if PartnerTier.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A tier named “{name}” already exists."})
    tier = PartnerTier(tenant=require_current_tenant(), name=name, rank=rank)
    tier.full_clean()
    tier.save()
    return tier


@transaction.atomic
def partner_tier_update(*, tier: PartnerTier, name: str, rank: int) -> PartnerTier:
    name = " ".join(name.split())
    if PartnerTier.objects.filter(name__iexact=name).exclude(pk=tier.pk).exists():
        raise ValidationError({"name": f"A tier named “{name}” already exists."})
    tier.name, tier.rank = name, rank
    tier.full_clean()
    tier.save()
    return tier


@transaction.atomic
def partner_tier_delete(*, tier: PartnerTier) -> None:
    """Partners of a deleted tier keep no tier."""
    tier.delete()


# --- Change requests -----------------------------------------------------------------------


def _change_request_perm(change_request: ChangeRequest) -> tuple[Perm, str]:
    if change_request.kind == ChangeRequest.Kind.BANK:
        return (
            Perm.PARTNERS_BANK_DETAILS_CHANGE,
            "Only finance and tenant admins can decide on bank detail changes.",
        )
    return Perm.PARTNERS_CHANGE, "Your role cannot decide on company detail changes."


def _lock_pending(change_request: ChangeRequest) -> ChangeRequest:
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if locked.status != ChangeRequest.Status.PENDING:
        raise ValidationError(f"This change request is already {locked.get_status_display()}.")
    return locked


def _notify_partner(change_request: ChangeRequest, *, approved: bool) -> None:
    from partners.services.notifications import notify

    verdict = "approved" if approved else "rejected"
    notify(
        users=User.objects.filter(partner_links__partner_id=change_request.partner_id),
        kind="change_request_decided",
        title=f"Your {change_request.get_kind_display().lower()} change was {verdict}",
        body=change_request.comment,
        partner=change_request.partner,
        dedup_key=f"change_request:{change_request.pk}:{verdict}",
    )


@transaction.atomic
def change_request_approve(
    *, change_request: ChangeRequest, actor: User, actor_role: str | None, comment: str = ""
) -> ChangeRequest:
    """Apply a partner's pending change (company fields or bank details) and close it.

    Company changes need ``partners.change``, bank changes ``partners.bank_details.change``.
    The payload is a flat ``{field: new value}``; fields outside the allowed set are ignored.
    """
    perm, message = _change_request_perm(change_request)
    _require(actor_role, perm, message)
    change_request = _lock_pending(change_request)
    payload = change_request.payload if isinstance(change_request.payload, dict) else {}
    partner = Partner.objects.select_for_update().get(pk=change_request.partner_id)
    if change_request.kind == ChangeRequest.Kind.BANK:
        current = BankDetails.objects.filter(partner=partner).first()
        values = {f: getattr(current, f) for f in BANK_FIELDS} if current else {}
        values.update({f: str(payload[f]) for f in BANK_FIELDS if f in payload})
        if "account_holder" not in values or "iban" not in values:
            raise ValidationError("The requested bank details lack an account holder or IBAN.")
        bank_details_set(partner=partner, actor_role=actor_role, **values)
    else:
        changes = {f: str(payload[f]) for f in COMPANY_CHANGE_FIELDS if f in payload}
        if not changes:
            raise ValidationError("The change request contains no company field to change.")
        partner_update(partner=partner, actor=actor, **changes)
    change_request.status = ChangeRequest.Status.APPROVED
    change_request.decided_by = actor
    change_request.decided_at = timezone.now()
    change_request.comment = comment.strip()
    change_request.full_clean(exclude=["requested_by"])  # null when the requester left
    change_request.save()
    _notify_partner(change_request, approved=True)
    return change_request


@transaction.atomic
def change_request_reject(
    *, change_request: ChangeRequest, actor: User, actor_role: str | None, comment: str
) -> ChangeRequest:
    """Close a pending change without applying it; the partner is told why."""
    perm, message = _change_request_perm(change_request)
    _require(actor_role, perm, message)
    if not comment.strip():
        raise ValidationError({"comment": "Say why the change is rejected."})
    change_request = _lock_pending(change_request)
    change_request.status = ChangeRequest.Status.REJECTED
    change_request.decided_by = actor
    change_request.decided_at = timezone.now()
    change_request.comment = comment.strip()
    change_request.full_clean(exclude=["requested_by"])  # null when the requester left
    change_request.save()
    _notify_partner(change_request, approved=False)
    return change_request
