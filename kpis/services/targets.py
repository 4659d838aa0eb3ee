"""Writes of KPI targets: a change closes the current row and opens a new one, never rewrites."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from kpis.models import KpiDefinition, KpiTarget, PeriodKind
from kpis.periods import tenant_today
from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Agreement, Partner, PartnerTier, PartnerType


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


@transaction.atomic
def kpi_target_set(
    *,
    kpi: KpiDefinition,
    value: Decimal,
    effective_from: date,
    partner: Partner | None = None,
    partner_type: PartnerType | None = None,
    tier: PartnerTier | None = None,
    period_kind: str = PeriodKind.MONTH,
    weight: Decimal = Decimal(1),
    agreement: Agreement | None = None,
    user: User | None = None,
    today: date | None = None,
) -> KpiTarget:
    """Set the target of ``kpi`` for one scope (partner, type, tier or default) from a date.

    Periods already begun keep the target they were judged by: ``effective_from`` may not lie
    before the current month. The row in force on that date is closed (``effective_to``) and
    a new row inserted; a row starting that very day (not yet judged) is replaced instead.
    """
    today = today or tenant_today()
    if sum(x is not None for x in (partner, partner_type, tier)) > 1:
        raise ValidationError("Give at most one of partner, partner_type and tier.")
    if effective_from < _first_of_month(today):
        raise ValidationError(
            {
                "effective_from": (
                    f"{effective_from} lies in a past month: targets of past periods are never "
                    f"rewritten. Use {_first_of_month(today)} or later."
                )
            }
        )
    if agreement is not None and partner is not None and agreement.partner_id != partner.pk:
        raise ValidationError({"agreement": "The agreement belongs to another partner."})
    scope = KpiTarget.objects.select_for_update().filter(
        kpi=kpi, partner=partner, partner_type=partner_type, tier=tier, period_kind=period_kind
    )
    later = scope.filter(effective_from__gt=effective_from).order_by("effective_from").first()
    if later is not None:
        raise ValidationError(
            {
                "effective_from": (
                    f"A later target already starts on {later.effective_from}; "
                    "change that one instead."
                )
            }
        )
    current = (
        scope.filter(effective_from__lte=effective_from)
        .exclude(effective_to__lte=effective_from)
        .first()
    )
    if current is not None and current.effective_from == effective_from:
        # Starts today or later: not judged yet, so replacing it rewrites no history.
        current.delete()
    elif current is not None:
        current.effective_to = effective_from
        current.full_clean(exclude=["created_by"])
        current.save(update_fields=["effective_to"])
    target = KpiTarget(
        kpi=kpi,
        partner=partner,
        partner_type=partner_type,
        tier=tier,
        period_kind=period_kind,
        value=value,
        weight=weight,
        agreement=agreement,
        effective_from=effective_from,
        created_by=user,
        tenant=require_current_tenant(),
    )
    target.full_clean(exclude=["created_by"])  # empty for targets set by the system
    target.save()
    return target


@transaction.atomic
def kpi_target_end(
    *, target: KpiTarget, effective_to: date, today: date | None = None
) -> KpiTarget:
    """Stop a target from a date on (not in a past month)."""
    today = today or tenant_today()
    if effective_to < _first_of_month(today):
        raise ValidationError({"effective_to": "A target cannot end in a past month."})
    target.effective_to = effective_to
    target.full_clean(exclude=["created_by"])
    target.save(update_fields=["effective_to"])
    return target
