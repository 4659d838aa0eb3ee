"""Statement lifecycle: approve (content hash, four eyes), mark paid, dispute and resolve, and
manual adjustments.

``draft → approved → paid``; ``approved → disputed → approved`` while a dispute is open. A
statement that is no longer a draft is immutable in the database (trigger of migration 0005):
corrections are ``StatementAdjustment`` rows, settled as ``adjustment`` lines of the partner's
next open statement by the settlement run (``statements_build``). Every change is saved through
the ORM, so the audit trail (django-auditlog) records each transition with its actor.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Dispute, DisputeStatus, Partner
from partners.services import relationship as dispute_services
from settlements.currencies import is_iso_currency, minor_units
from settlements.models import (
    SettlementPolicy,
    Statement,
    StatementAdjustment,
    StatementDispute,
    StatementLine,
)

Status = Statement.Status
DISPUTABLE = (Status.APPROVED, Status.DISPUTED, Status.PAID)
OPEN_DISPUTE = (DisputeStatus.OPEN, DisputeStatus.INVESTIGATING)


# --- policy and hash ----------------------------------------------------------------------------


def settlement_policy() -> SettlementPolicy:
    """The current tenant's policy (unsaved defaults when it has none)."""
    return SettlementPolicy.objects.first() or SettlementPolicy(tenant=require_current_tenant())


@transaction.atomic
def settlement_policy_set(*, four_eyes_approval: bool) -> SettlementPolicy:
    policy, _ = SettlementPolicy.objects.get_or_create(
        tenant=require_current_tenant(), defaults={"four_eyes_approval": four_eyes_approval}
    )
    if policy.four_eyes_approval != four_eyes_approval:
        policy.four_eyes_approval = four_eyes_approval
        policy.save()
    return policy


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return value


def statement_content_hash(statement: Statement, lines: list[StatementLine]) -> str:
    """sha256 of the canonical JSON of the statement and its lines: sorted keys, no spaces,
    amounts as normalised decimal strings, lines by position. Anyone holding the statement can
    recompute it (docs/settlement.md)."""
    payload = {
        "statement": {
            "id": statement.pk,
            "tenant": statement.tenant_id,
            "partner": statement.partner_id,
            "month": _text(statement.month),
            "plan_version": statement.plan_version_id,
            "currency": statement.currency,
            "direction": statement.direction,
            "basis_total": _text(statement.basis_total),
            "partner_share": _text(statement.partner_share),
            "csp_share": _text(statement.csp_share),
            "covered_imports": sorted(statement.covered_imports),
            "late_imports": sorted(statement.late_imports),
        },
        "lines": [
            {
                "position": line.position,
                "kind": line.kind,
                "product_code": line.product_code,
                "description": line.description,
                "basis_amount": _text(line.basis_amount),
                "quantity": _text(line.quantity),
                "record_count": line.record_count,
                "amount": _text(line.amount),
                "trace": line.trace,
            }
            for line in sorted(lines, key=lambda ln: ln.position)
        ],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _locked(statement: Statement) -> Statement:
    return Statement.objects.select_for_update().get(pk=statement.pk)


def _refuse(statement: Statement, action: str, allowed: tuple[str, ...]) -> None:
    if statement.status not in allowed:
        names = " or ".join(Status(s).label.lower() for s in allowed)
        raise ValidationError(
            {
                "status": f"Statement #{statement.pk} is {statement.get_status_display().lower()}:"
                f" only a {names} statement can be {action}."
            }
        )


# --- approve, pay -------------------------------------------------------------------------------


def _check_adjustment_lines(statement: Statement, lines: list[StatementLine]) -> None:
    """The draft's adjustment lines still say what their adjustments say (an adjustment edited
    or deleted after the run needs a re-run before approval)."""
    in_lines = {
        line.trace.get("adjustment_id"): line.amount for line in lines if line.kind == "adjustment"
    }
    current = dict(
        StatementAdjustment.objects.filter(settled_in=statement).values_list("pk", "amount")
    )
    if in_lines != current:
        raise ValidationError(
            {
                "status": f"Statement #{statement.pk}: its manual adjustments changed since the "
                f"settlement run; run {statement.month:%Y-%m} again before approving."
            }
        )


def _check_four_eyes(statement: Statement, user: User) -> None:
    if not settlement_policy().four_eyes_approval:
        return
    edited = StatementAdjustment.objects.filter(settled_in=statement).values_list(
        "pk", "updated_by_id", "created_by_id"
    )
    mine = [pk for pk, updated, created in edited if (updated or created) == user.pk]
    if mine:
        raise ValidationError(
            {
                "approved_by": f"Four-eyes approval: you last edited adjustment "
                f"#{', #'.join(map(str, mine))} of statement #{statement.pk}; another finance "
                "user must approve it."
            }
        )


@transaction.atomic
def statement_approve(*, statement: Statement, user: User) -> Statement:
    """Approve a draft: freeze its content, store its content hash, record who and when."""
    statement = _locked(statement)
    _refuse(statement, "approved", (Status.DRAFT,))
    lines = list(StatementLine.objects.filter(statement=statement).order_by("position"))
    _check_adjustment_lines(statement, lines)
    _check_four_eyes(statement, user)
    statement.content_hash = statement_content_hash(statement, lines)
    statement.status = Status.APPROVED
    statement.approved_by = user
    statement.approved_at = timezone.now()
    statement.save(update_fields=["content_hash", "status", "approved_by", "approved_at"])
    return statement


@dataclass
class BulkApproval:
    approved: list[Statement] = field(default_factory=list)
    refused: list[tuple[Statement, str]] = field(default_factory=list)


def statements_approve(*, statements: QuerySet[Statement], user: User) -> BulkApproval:
    """Approve every draft of ``statements`` (a month, filtered); each in its own transaction,
    so one refused (four eyes, stale adjustments) leaves the others approved and says why."""
    out = BulkApproval()
    for statement in statements.filter(status=Status.DRAFT).order_by("pk"):
        try:
            out.approved.append(statement_approve(statement=statement, user=user))
        except ValidationError as exc:
            out.refused.append((statement, " ".join(exc.messages)))
    return out


@transaction.atomic
def statement_mark_paid(
    *, statement: Statement, user: User, payment_date: date, reference: str
) -> Statement:
    """Record the payment of an approved statement (a disputed one is resolved first)."""
    statement = _locked(statement)
    _refuse(statement, "marked paid", (Status.APPROVED,))
    reference = reference.strip()
    if not reference:
        raise ValidationError({"payment_reference": "Give the payment reference."})
    if payment_date > timezone.localdate():
        raise ValidationError({"payment_date": "The payment date cannot be in the future."})
    statement.status = Status.PAID
    statement.paid_by = user
    statement.paid_at = timezone.now()
    statement.payment_date = payment_date
    statement.payment_reference = reference
    statement.full_clean(
        exclude=["tenant", "partner", "run", "plan_version", "approved_by", "paid_by"]
    )
    statement.save(
        update_fields=["status", "paid_by", "paid_at", "payment_date", "payment_reference"]
    )
    return statement


# --- disputes -----------------------------------------------------------------------------------


@transaction.atomic
def statement_dispute_open(
    *,
    statement: Statement,
    user: User,
    comment: str,
    by_partner: bool,
    line: StatementLine | None = None,
    upload: UploadedFile | None = None,
) -> StatementDispute:
    """Raise a dispute on an approved (or paid) statement, or one of its lines: a settlement
    dispute in the partners app, linked here; an approved statement becomes ``disputed``."""
    statement = _locked(statement)
    _refuse(statement, "disputed", DISPUTABLE)
    if line is not None and line.statement_id != statement.pk:
        raise ValidationError({"line": "The line belongs to another statement."})
    if not comment.strip():
        raise ValidationError({"comment": "Say what is wrong with the statement."})
    partner = Partner.objects.get(pk=statement.partner_id)
    subject = f"line {line.position} of " if line is not None else ""
    dispute = dispute_services.dispute_open(
        partner=partner,
        category=Dispute.Category.SETTLEMENT,
        title=f"Statement {statement.month:%Y-%m}: {subject}#{statement.pk}"[:200],
        description=comment,
        raised_by=user,
        by_partner=by_partner,
    )
    if upload is not None:
        dispute_services.dispute_comment_add(
            dispute=dispute,
            author=user,
            body=f"Attachment: {upload.name or 'file'}",
            from_partner=by_partner,
            upload=upload,
        )
    link = StatementDispute(
        tenant=statement.tenant, dispute=dispute, statement=statement, line=line
    )
    link.save()
    if statement.status == Status.APPROVED:
        statement.status = Status.DISPUTED
        statement.save(update_fields=["status"])
    return link


def _statement_settle_disputes(statement_id: int) -> None:
    """A disputed statement whose disputes are all closed is approved again (payable)."""
    statement = Statement.objects.select_for_update().get(pk=statement_id)
    if statement.status != Status.DISPUTED:
        return
    still_open = StatementDispute.objects.filter(
        statement=statement, dispute__status__in=OPEN_DISPUTE
    ).exists()
    if not still_open:
        statement.status = Status.APPROVED
        statement.save(update_fields=["status"])


@transaction.atomic
def statement_dispute_resolve(
    *,
    link: StatementDispute,
    user: User,
    resolution: str,
    amount: Decimal | None = None,
    reject: bool = False,
) -> StatementAdjustment | None:
    """Close the dispute (resolved, or rejected); with an amount, the resolution creates the
    adjustment the next settlement run settles in the partner's next open statement."""
    dispute = Dispute.objects.select_for_update().get(pk=link.dispute_id)
    if dispute.status not in OPEN_DISPUTE:
        raise ValidationError({"dispute": f"Dispute #{dispute.pk} is already closed."})
    if reject and amount:
        raise ValidationError({"amount": "A rejected dispute gives no adjustment."})
    if not resolution.strip():
        raise ValidationError({"resolution": "Explain the resolution."})
    adjustment = None
    if amount:
        statement = Statement.objects.get(pk=link.statement_id)
        adjustment = adjustment_create(
            partner=Partner.objects.get(pk=statement.partner_id),
            amount=amount,
            currency=statement.currency,
            reason=f"Dispute #{dispute.pk}: {resolution.strip()}"[:300],
            user=user,
            corrects_statement=statement,
            corrects_line=link.line,
            dispute=dispute,
        )
    if dispute.status == DisputeStatus.OPEN:
        dispute = dispute_services.dispute_transition(
            dispute=dispute, to_status=DisputeStatus.INVESTIGATING, actor=user
        )
    dispute_services.dispute_transition(
        dispute=dispute,
        to_status=DisputeStatus.REJECTED if reject else DisputeStatus.RESOLVED,
        actor=user,
        resolution=resolution,
    )
    # The post_save receiver of Dispute (settlements.signals) re-approves the statement.
    return adjustment


def dispute_closed(*, dispute_id: int) -> None:
    """A settlement dispute was closed (here or on the partners app's dispute page): its
    statements with no open dispute left are approved again."""
    ids = StatementDispute.objects.filter(dispute_id=dispute_id).values_list(
        "statement_id", flat=True
    )
    for statement_id in ids:
        _statement_settle_disputes(statement_id)


# --- adjustments --------------------------------------------------------------------------------


def _clean_adjustment(adjustment: StatementAdjustment) -> None:
    errors: dict[str, str] = {}
    if not is_iso_currency(adjustment.currency):
        errors["currency"] = f"{adjustment.currency!r} is not an ISO 4217 currency code."
    elif adjustment.amount is not None:
        places = minor_units(adjustment.currency)
        if adjustment.amount != adjustment.amount.quantize(Decimal(1).scaleb(-places)):
            errors["amount"] = f"{adjustment.currency} amounts have at most {places} decimals."
    if adjustment.amount is not None and adjustment.amount == 0:
        errors["amount"] = "An adjustment cannot be zero."
    if not adjustment.reason.strip():
        errors["reason"] = "Give the reason for the adjustment."
    corrected = adjustment.corrects_statement
    if corrected is not None:
        if corrected.partner_id != adjustment.partner_id:
            errors["corrects_statement"] = "The statement belongs to another partner."
        elif corrected.status == Status.DRAFT:
            errors["corrects_statement"] = (
                "A draft is corrected by running the month again, not by an adjustment."
            )
        elif corrected.currency != adjustment.currency and "currency" not in errors:
            errors["currency"] = (
                f"The corrected statement is in {corrected.currency}, not {adjustment.currency}."
            )
    line = adjustment.corrects_line
    if line is not None and (corrected is None or line.statement_id != corrected.pk):
        errors["corrects_line"] = "The line is not a line of the corrected statement."
    if errors:
        raise ValidationError(errors)


def _editable(adjustment: StatementAdjustment) -> None:
    settled = adjustment.settled_in
    if settled is not None and settled.status != Status.DRAFT:
        raise ValidationError(
            {
                "settled_in": f"Adjustment #{adjustment.pk} is settled in statement "
                f"#{settled.pk}, which is {settled.get_status_display().lower()}: it can no "
                "longer change. Add a new adjustment instead."
            }
        )


@transaction.atomic
def adjustment_create(
    *,
    partner: Partner,
    amount: Decimal,
    currency: str,
    reason: str,
    user: User | None,
    corrects_statement: Statement | None = None,
    corrects_line: StatementLine | None = None,
    dispute: Dispute | None = None,
) -> StatementAdjustment:
    """A correction for the partner's next open statement (settled by the next run)."""
    adjustment = StatementAdjustment(
        tenant=require_current_tenant(),
        partner=partner,
        amount=amount,
        currency=currency,
        reason=reason.strip(),
        corrects_statement=corrects_statement,
        corrects_line=corrects_line,
        dispute=dispute,
        created_by=user,
        updated_by=user,
    )
    _clean_adjustment(adjustment)
    adjustment.save()
    return adjustment


@transaction.atomic
def adjustment_update(
    *, adjustment: StatementAdjustment, user: User | None, **changes: Any
) -> StatementAdjustment:
    """Change an adjustment not yet settled in an approved statement (``amount``, ``currency``,
    ``reason``, ``corrects_statement``, ``corrects_line``)."""
    adjustment = (
        StatementAdjustment.objects.select_for_update(of=("self",))
        .select_related("settled_in", "corrects_statement", "corrects_line")
        .get(pk=adjustment.pk)
    )
    _editable(adjustment)
    allowed = {"amount", "currency", "reason", "corrects_statement", "corrects_line"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    for name, value in changes.items():
        setattr(adjustment, name, value.strip() if name == "reason" else value)
    adjustment.updated_by = user
    _clean_adjustment(adjustment)
    adjustment.save()
    return adjustment


@transaction.atomic
def adjustment_delete(*, adjustment: StatementAdjustment) -> None:
    """Delete an adjustment not yet settled in an approved statement."""
    adjustment = (
        StatementAdjustment.objects.select_for_update(of=("self",))
        .select_related("settled_in")
        .get(pk=adjustment.pk)
    )
    _editable(adjustment)
    adjustment.delete()
