"""Settlements: usage ingestion, FX, revenue-share plans, settlement runs and statements."""

from settlements.models.engine import (
    PlanAssignment,
    RevenueSharePlan,
    RevenueSharePlanVersion,
    SettlementRun,
    SettlementRunChunk,
    Statement,
    StatementLine,
)
from settlements.models.exports import JournalSettings, SettlementExport
from settlements.models.statements import (
    SettlementPolicy,
    StatementAdjustment,
    StatementDispute,
)
from settlements.models.usage import (
    FxRate,
    Product,
    UsageDay,
    UsageImport,
    UsageRecord,
    UsageRejectedRow,
)

__all__ = [
    "FxRate",
    "JournalSettings",
    "PlanAssignment",
    "Product",
    "RevenueSharePlan",
    "RevenueSharePlanVersion",
    "SettlementExport",
    "SettlementPolicy",
    "SettlementRun",
    "SettlementRunChunk",
    "Statement",
    "StatementAdjustment",
    "StatementDispute",
    "StatementLine",
    "UsageDay",
    "UsageImport",
    "UsageRecord",
    "UsageRejectedRow",
]
