"""Writes of KPI definitions."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kpis.models import (
    STATEMENT_MEASURES,
    Aggregation,
    Direction,
    KpiDefinition,
    SettlementMeasure,
    Source,
    Unit,
)
from partnerhub.tenancy.context import require_current_tenant

EDITABLE_FIELDS = (
    "key",
    "name",
    "description",
    "unit",
    "currency",
    "direction",
    "band_low",
    "band_high",
    "aggregation",
    "numerator",
    "denominator",
    "scale",
    "source",
    "settlement_measure",
    "settlement_product_code",
    "partner_reported",
    "amber_below",
    "red_below",
    "drift_enabled",
    "drift_method",
    "drift_sensitivity",
    "drift_min_history_days",
    "is_active",
)


AMOUNT_MEASURES = (
    SettlementMeasure.GROSS_AMOUNT,
    SettlementMeasure.NET_AMOUNT,
    *STATEMENT_MEASURES,
)


def _check(definition: KpiDefinition) -> None:
    errors: dict[str, str] = {}
    if definition.aggregation == Aggregation.RATIO:
        for operand in ("numerator", "denominator"):
            value = getattr(definition, operand)
            if value is None:
                errors[operand] = "A ratio needs a numerator and a denominator KPI."
            elif definition.pk and value.pk == definition.pk:
                errors[operand] = "A ratio cannot use itself."
            elif value.aggregation == Aggregation.RATIO:
                errors[operand] = "A ratio's operands must be measured KPIs, not ratios."
    if definition.direction == Direction.WITHIN_BAND:
        if definition.band_low is None or definition.band_high is None:
            errors["band_low"] = "A within-band KPI needs band_low and band_high."
        elif definition.band_low > definition.band_high:
            errors["band_high"] = "band_high must not be below band_low."
    if definition.source == Source.SETTLEMENT:
        if definition.aggregation == Aggregation.RATIO:
            errors["source"] = "A ratio is computed from its operands, not from settlement usage."
        elif not definition.settlement_measure:
            errors["settlement_measure"] = "Say what the settlement usage adds up to."
        elif definition.settlement_measure in AMOUNT_MEASURES and (
            definition.unit != Unit.CURRENCY or not definition.currency
        ):
            errors["currency"] = "An amount from settlement usage needs a currency KPI's currency."
        elif definition.settlement_measure in STATEMENT_MEASURES and (
            definition.settlement_product_code
        ):
            errors["settlement_product_code"] = (
                "A statement measure takes the whole statement: leave the product code empty."
            )
    if definition.red_below > definition.amber_below:
        errors["red_below"] = "red_below must not be above amber_below."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def kpi_definition_create(**fields: Any) -> KpiDefinition:
    """Create a KPI definition (keyword fields of EDITABLE_FIELDS)."""
    definition = KpiDefinition(**{k: v for k, v in fields.items() if k in EDITABLE_FIELDS})
    definition.tenant = require_current_tenant()
    if definition.aggregation != Aggregation.RATIO:
        definition.numerator = definition.denominator = None
    if definition.source != Source.SETTLEMENT:
        definition.settlement_measure = definition.settlement_product_code = ""
    _check(definition)
    definition.full_clean()
    definition.save()
    return definition


@transaction.atomic
def kpi_definition_update(*, definition: KpiDefinition, data: dict[str, Any]) -> KpiDefinition:
    """Change a KPI definition; its measurements and targets stay."""
    for name, value in data.items():
        if name in EDITABLE_FIELDS:
            setattr(definition, name, value)
    if definition.aggregation != Aggregation.RATIO:
        definition.numerator = definition.denominator = None
    if definition.source != Source.SETTLEMENT:
        definition.settlement_measure = definition.settlement_product_code = ""
    _check(definition)
    definition.full_clean()
    definition.save()
    return definition
