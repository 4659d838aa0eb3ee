"""Reads of KPI definitions and targets, and the one place that resolves which target applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from kpis.models import KpiDefinition, KpiTarget
from kpis.periods import Period
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner

# A LATERAL join resolving the target of partner ``p`` and definition ``d`` effective on
# %(on)s for a %(kind)s period: partner > tier > type > tenant default, the period kind
# asked for before the other one (converted: a sum's monthly target times 3 for a quarter).
# Used by the resolver below and by the scorecard query, so both judge alike.
TARGET_LATERAL_SQL = """
LEFT JOIN LATERAL (
    SELECT t.id AS target_id,
           CASE WHEN t.period_kind = %(kind)s OR d.aggregation <> 'sum' THEN t.value
                WHEN %(kind)s = 'quarter' THEN t.value * 3
                ELSE t.value / 3 END AS target_value,
           t.weight AS target_weight,
           t.agreement_id AS target_agreement_id,
           CASE WHEN t.partner_id IS NOT NULL THEN 'partner'
                WHEN t.tier_id IS NOT NULL THEN 'tier'
                WHEN t.partner_type_id IS NOT NULL THEN 'type'
                ELSE 'default' END AS target_scope
      FROM kpis_kpitarget t
     WHERE t.tenant_id = p.tenant_id
       AND t.kpi_id = d.id
       AND t.effective_from <= %(on)s
       AND (t.effective_to IS NULL OR t.effective_to > %(on)s)
       AND (t.partner_id = p.id OR t.tier_id = p.tier_id OR t.partner_type_id = p.partner_type_id
            OR (t.partner_id IS NULL AND t.tier_id IS NULL AND t.partner_type_id IS NULL))
     ORDER BY (t.partner_id IS NULL), (t.tier_id IS NULL), (t.partner_type_id IS NULL),
              (t.period_kind <> %(kind)s), t.effective_from DESC, t.id DESC
     LIMIT 1
) tg ON true
"""


@dataclass(frozen=True)
class ResolvedTarget:
    target_id: int
    value: Decimal
    weight: Decimal
    scope: str
    agreement_id: int | None


def kpi_definition_list() -> QuerySet[KpiDefinition]:
    return KpiDefinition.objects.select_related("numerator", "denominator").order_by("name")


def kpi_target_list() -> QuerySet[KpiTarget]:
    return KpiTarget.objects.select_related(
        "kpi", "partner", "partner_type", "tier", "agreement"
    ).order_by("kpi__name", "-effective_from", "-id")


def kpi_targets_resolve(
    *, partner_ids: list[int], kpi_ids: list[int], period: Period
) -> dict[tuple[int, int], ResolvedTarget]:
    """Targets that applied to each (partner, KPI) for ``period``, as judged then: the rows
    effective on the period's first day. One query."""
    tenant = require_current_tenant()
    sql = f"""
        SELECT p.id, d.id, tg.target_id, tg.target_value, tg.target_weight, tg.target_scope,
               tg.target_agreement_id
          FROM partners_partner p
          JOIN kpis_kpidefinition d ON d.tenant_id = p.tenant_id
          {TARGET_LATERAL_SQL}
         WHERE p.tenant_id = %(tenant)s AND p.id = ANY(%(partners)s::bigint[])
           AND d.id = ANY(%(kpis)s::bigint[])
           AND tg.target_id IS NOT NULL
    """  # noqa: S608 - constant fragments, values are parameters
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "partners": list(partner_ids),
        "kpis": list(kpi_ids),
        "on": period.start,
        "kind": period.kind,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        (pid, kid): ResolvedTarget(tid, value, weight, scope, agreement_id)
        for pid, kid, tid, value, weight, scope, agreement_id in rows
    }


def kpi_target_for(
    *, partner: Partner, kpi: KpiDefinition, period: Period
) -> ResolvedTarget | None:
    """The target that applied to ``partner``'s ``kpi`` in ``period`` (as judged then)."""
    return kpi_targets_resolve(partner_ids=[partner.pk], kpi_ids=[kpi.pk], period=period).get(
        (partner.pk, kpi.pk)
    )


def kpi_target_effective_on(*, kpi: KpiDefinition, day: date) -> QuerySet[KpiTarget]:
    return kpi_target_list().filter(kpi=kpi, effective_from__lte=day).exclude(effective_to__lte=day)
