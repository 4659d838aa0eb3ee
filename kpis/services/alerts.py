"""Handling drift alerts: acknowledge, resolve, reopen, assign an owner, add notes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kpis.models import DriftAlert
from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import require_current_tenant
from partnerhub.tenancy.models import Membership


def _append_note(alert: DriftAlert, *, note: str, user: User | None) -> None:
    note = note.strip()
    if not note:
        return
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    who = user.email if user is not None else "system"
    entry = f"[{stamp}] {who}: {note}"
    alert.notes = f"{alert.notes}\n{entry}" if alert.notes else entry


@transaction.atomic
def drift_alert_acknowledge(*, alert: DriftAlert, user: User, note: str = "") -> DriftAlert:
    """Someone is on it: open → acknowledged (the owner defaults to who acknowledged it)."""
    alert = DriftAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != DriftAlert.Status.OPEN:
        raise ValidationError(
            {
                "status": "Only an open alert can be acknowledged "
                f"(it is {alert.get_status_display().lower()})."
            }
        )
    alert.status = DriftAlert.Status.ACKNOWLEDGED
    alert.acknowledged_at = timezone.now()
    if alert.owner_id is None:
        alert.owner = user
    _append_note(alert, note=note, user=user)
    alert.full_clean(exclude=["tenant", "partner", "kpi", "owner"], validate_constraints=False)
    alert.save(update_fields=["status", "acknowledged_at", "owner", "notes"])
    return alert


@transaction.atomic
def drift_alert_resolve(*, alert: DriftAlert, user: User, note: str = "") -> DriftAlert:
    """Handled: open or acknowledged → resolved."""
    alert = DriftAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status == DriftAlert.Status.RESOLVED:
        raise ValidationError({"status": "The alert is already resolved."})
    now = timezone.now()
    alert.status = DriftAlert.Status.RESOLVED
    alert.resolved_at = now
    alert.acknowledged_at = alert.acknowledged_at or now
    _append_note(alert, note=note, user=user)
    alert.full_clean(exclude=["tenant", "partner", "kpi", "owner"], validate_constraints=False)
    alert.save(update_fields=["status", "resolved_at", "acknowledged_at", "notes"])
    return alert


@transaction.atomic
def drift_alert_update(
    *, alert: DriftAlert, user: User, owner: User | bool | None = False, note: str = ""
) -> DriftAlert:
    """Assign the owner (a member of the tenant; ``None`` clears it, ``False`` keeps it) and/or
    append a note."""
    alert = DriftAlert.objects.select_for_update().get(pk=alert.pk)
    fields = []
    if owner is not False:
        if (
            owner is not None
            and not Membership.objects.filter(tenant=require_current_tenant(), user=owner)
            .exclude(role=Role.PARTNER)
            .exists()
        ):
            raise ValidationError({"owner": "The owner must be a member of this workspace."})
        alert.owner = owner if isinstance(owner, User) else None
        fields.append("owner")
    if note.strip():
        _append_note(alert, note=note, user=user)
        fields.append("notes")
    if not fields:
        raise ValidationError({"note": "Give an owner or a note."})
    alert.full_clean(exclude=["tenant", "partner", "kpi", "owner"], validate_constraints=False)
    alert.save(update_fields=fields)
    return alert
