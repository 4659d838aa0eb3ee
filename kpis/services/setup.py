"""The starter KPI catalogue every tenant gets; editable afterwards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from kpis.models import Aggregation, Direction, KpiDefinition, Unit
from partnerhub.tenancy.models import Tenant

# key, name, unit, aggregation, direction, extra fields. Ratios name their operands' keys.
STARTER_CATALOGUE: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    ("revenue", "Revenue", Unit.CURRENCY, Aggregation.SUM, Direction.HIGHER_BETTER, {}),
    (
        "active_subscribers",
        "Active subscribers",
        Unit.COUNT,
        Aggregation.LAST,
        Direction.HIGHER_BETTER,
        {},
    ),
    (
        "arpu",
        "ARPU",
        Unit.CURRENCY,
        Aggregation.RATIO,
        Direction.HIGHER_BETTER,
        {"numerator": "revenue", "denominator": "active_subscribers"},
    ),
    (
        "complaints",
        "Complaints",
        Unit.COUNT,
        Aggregation.SUM,
        Direction.LOWER_BETTER,
        {"partner_reported": True},
    ),
    (
        "complaints_per_1000",
        "Complaints per 1,000 subscribers",
        Unit.RATIO,
        Aggregation.RATIO,
        Direction.LOWER_BETTER,
        {"numerator": "complaints", "denominator": "active_subscribers", "scale": Decimal(1000)},
    ),
    (
        "csat",
        "Customer satisfaction (CSAT)",
        Unit.SCORE,
        Aggregation.MEAN,
        Direction.HIGHER_BETTER,
        {"partner_reported": True},
    ),
    (
        "availability",
        "Service availability",
        Unit.PERCENT,
        Aggregation.MEAN,
        Direction.HIGHER_BETTER,
        {
            "description": "For infrastructure partners.",
            "partner_reported": True,
            "amber_below": Decimal("100"),
            "red_below": Decimal("99.5"),
        },
    ),
    ("activations", "Activations", Unit.COUNT, Aggregation.SUM, Direction.HIGHER_BETTER, {}),
    ("churn", "Churn", Unit.PERCENT, Aggregation.MEAN, Direction.LOWER_BETTER, {}),
]


@transaction.atomic
def kpi_catalogue_setup(tenant: Tenant) -> None:
    """Create the starter KPI definitions that are missing (idempotent; edits are kept).

    Runs for every new tenant (and every test tenant), so it inserts in two statements:
    measured KPIs first, then the ratios that point at them. The catalogue is constant
    and satisfies the model's checks, so rows are not validated one by one.
    """
    existing = dict(KpiDefinition.objects.values_list("key", "id"))
    for ratios in (False, True):
        missing = []
        for key, name, unit, aggregation, direction, extra in STARTER_CATALOGUE:
            if key in existing or (aggregation == Aggregation.RATIO) != ratios:
                continue
            fields = dict(extra)
            for operand in ("numerator", "denominator"):
                if operand in fields:
                    fields[f"{operand}_id"] = existing[fields.pop(operand)]
            if unit == Unit.CURRENCY:
                fields["currency"] = tenant.default_currency
            missing.append(
                KpiDefinition(
                    tenant=tenant,
                    key=key,
                    name=name,
                    unit=unit,
                    aggregation=aggregation,
                    direction=direction,
                    **fields,
                )
            )
        for definition in KpiDefinition.objects.bulk_create(missing):
            existing[definition.key] = definition.pk
