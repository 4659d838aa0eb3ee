"""Demo plans for `make run`: every rule kind, assigned to the demo partners' agreements, and the
draft statements of the three demo months (runs computed in this process).

Runs after ``settlements.demo_usage`` (usage and FX first). Idempotent: plans are looked up by
name, an agreement that already has an assignment keeps it, re-running a month replaces drafts.
Adds the KPI "Settled revenue" computed from the partners' statement history (approved and paid
statements, see docs/kpis.md): it fills as finance approves the demo months.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from partnerhub.tenancy.models import Tenant
from partners.models import Agreement, AgreementStatus, AgreementType, Partner, PartnerStatus
from settlements.demo_usage import demo_months
from settlements.models import PlanAssignment, RevenueSharePlan, SettlementRun
from settlements.services.plans import plan_assignment_create, plan_create
from settlements.services.runs import settlement_run_execute, settlement_run_start

BASE = {"direction": "payable", "basis": "gross", "fx": "transaction_date"}
TIERS = [
    {"up_to": "2000", "rate": "0.20"},
    {"up_to": "5000", "rate": "0.25"},
    {"up_to": None, "rate": "0.30"},
]

DEMO_PLANS: list[dict[str, Any]] = [
    {
        **BASE,
        "name": "Content 30 %",
        "currency": "EUR",
        "rules": [{"product": "*", "type": "percentage", "rate": "0.30"}],
    },
    {
        **BASE,
        "name": "Video marginal tiers",
        "currency": "EUR",
        "basis": "net",
        "rules": [
            {
                "product": "video",
                "type": "tiered",
                "measure": "revenue",
                "mode": "marginal",
                "tiers": TIERS,
            },
            {"product": "*", "type": "percentage", "rate": "0.20"},
        ],
    },
    {
        **BASE,
        "name": "Gaming all-units tiers",
        "currency": "EUR",
        "rules": [
            {
                "product": "gaming",
                "type": "tiered",
                "measure": "revenue",
                "mode": "all_units",
                "tiers": TIERS,
            },
            {"product": "*", "type": "percentage", "rate": "0.15"},
        ],
    },
    {
        **BASE,
        "name": "A2P SMS per message",
        "currency": "EUR",
        "fx": "period_end",
        "rules": [
            {"product": "sms-a2p", "type": "per_unit", "amount": "0.012"},
            {
                "product": "*",
                "type": "tiered",
                "measure": "quantity",
                "mode": "marginal",
                "tiers": [{"up_to": "100", "rate": "0.50"}, {"up_to": None, "rate": "0.25"}],
            },
        ],
    },
    {
        **BASE,
        "name": "Music with guarantee and KPIs",
        "currency": "EUR",
        "rules": [{"product": "*", "type": "percentage", "rate": "0.25"}],
        "kpi_adjustments": [
            {"kpi": "activations", "bonus_percent_if_met": "5", "penalty_percent_if_missed": "0"},
            {"kpi": "churn", "bonus_percent_if_met": "0", "penalty_percent_if_missed": "10"},
        ],
        "minimum_guarantee": "1500.00",
    },
    {
        **BASE,
        "name": "Storage capped",
        "currency": "USD",
        "rules": [{"product": "*", "type": "percentage", "rate": "0.40"}],
        "cap": "800.00",
    },
    {
        **BASE,
        "name": "Reseller wholesale (receivable)",
        "currency": "EUR",
        "direction": "receivable",
        "basis": "net",
        "rules": [{"product": "*", "type": "percentage", "rate": "0.85"}],
    },
    {
        **BASE,
        "name": "Japan content (JPY)",
        "currency": "JPY",
        "rules": [{"product": "*", "type": "percentage", "rate": "0.30"}],
        "minimum_guarantee": "50000",
    },
]


def load(tenant: Tenant) -> None:
    plans = []
    for content in DEMO_PLANS:
        plan = RevenueSharePlan.objects.filter(name=content["name"]).first()
        plans.append(plan or plan_create(content=content))
    months = demo_months()
    partners = list(Partner.objects.filter(status=PartnerStatus.ACTIVE).order_by("pk"))
    for i, partner in enumerate(partners):
        agreement = (
            Agreement.objects.filter(partner=partner, status=AgreementStatus.ACTIVE)
            .order_by("start_date")
            .first()
        )
        if agreement is None:
            if i % 7 == 6:
                continue  # some partners stay without agreement: their usage shows as unsettled
            agreement = Agreement.objects.create(
                partner=partner,
                agreement_type=AgreementType.REVENUE_SHARE,
                reference=f"DEMO-RS-{partner.pk}",
                title="Revenue share (demo)",
                status=AgreementStatus.ACTIVE,
                start_date=date(months[0].year - 1, 1, 1),
            )
        if not PlanAssignment.objects.filter(agreement=agreement).exists():
            plan_assignment_create(
                agreement=agreement, plan=plans[i % len(plans)], effective_from=agreement.start_date
            )
    for month in months:
        if SettlementRun.objects.filter(month=month, status__in=["queued", "running"]).exists():
            continue
        settlement_run_execute(run=settlement_run_start(month=month, enqueue=False))
    _settled_revenue_kpi(tenant, months)


SETTLED_REVENUE_KEY = "settled_revenue"


def _settled_revenue_kpi(tenant: Tenant, months: list[date]) -> None:
    """The statement-history revenue KPI of the demo, and its values for the demo months."""
    from kpis.models import KpiDefinition
    from kpis.services.definitions import kpi_definition_create
    from kpis.services.settlement_usage import kpi_settlement_measurements_refresh

    if not KpiDefinition.objects.filter(key=SETTLED_REVENUE_KEY).exists():
        kpi_definition_create(
            key=SETTLED_REVENUE_KEY,
            name="Settled revenue",
            description="The partner's share of its approved and paid statements, per month.",
            unit="currency",
            currency=tenant.default_currency,
            direction="higher_better",
            aggregation="sum",
            source="settlement",
            settlement_measure="statement_partner_share",
            drift_enabled=False,  # one value a month: nothing for a daily drift detector
        )
    kpi_settlement_measurements_refresh(start=months[0], end=months[-1])
