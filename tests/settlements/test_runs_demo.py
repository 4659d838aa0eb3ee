"""The demo plans load after the demo usage, settle the three demo months, and load twice."""

from __future__ import annotations

from settlements import demo_plans, demo_usage
from settlements.models import RevenueSharePlan, SettlementRun, Statement


def test_demo_plans_settle_the_demo_months_idempotently(personas, as_tenant_a):
    demo_usage.load(personas.tenant_a)
    demo_plans.load(personas.tenant_a)
    first = sorted(Statement.objects.values_list("partner_id", "month", "content_hash"))
    assert RevenueSharePlan.objects.count() == len(demo_plans.DEMO_PLANS)
    assert SettlementRun.objects.filter(status="done").count() == 3
    assert first
    demo_plans.load(personas.tenant_a)
    assert sorted(Statement.objects.values_list("partner_id", "month", "content_hash")) == first
    assert {s.currency for s in Statement.objects.all()} <= {"EUR", "USD", "JPY"}
