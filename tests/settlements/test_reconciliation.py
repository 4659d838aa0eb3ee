"""A month's reconciliation: zero difference, planted unsettled usage under the right reason,
late and not-yet-run usage, frozen statements, the demo data, a constant number of queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from partnerhub.tenancy.context import tenant_context
from settlements import demo_plans, demo_usage
from settlements.demo_usage import demo_months
from settlements.models import Statement
from settlements.selectors.reconciliation import settlement_reconciliation
from settlements.services.runs import settlement_run_execute, settlement_run_start
from tests.factories import TenantFactory
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import PCT30, assign, fx, make_import, make_plan, usage

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)


def run(month=OCT):
    r = settlement_run_start(month=month, chunk_size=200, enqueue=False)
    return settlement_run_execute(run=r)


def by_currency(rec):
    return {u.currency: u for u in rec.usage}


@pytest.fixture
def world(personas, as_tenant_a):
    plan = make_plan()
    assign(personas.a_partner, plan)
    fx("2026-10-15", "EUR", "USD", "1.25")  # 1 USD = 0.8 EUR
    return personas


def test_reconciliation_of_a_month_without_a_run_says_so(world):
    usage(world.a_partner, "music", "10.00")
    rec = settlement_reconciliation(month=OCT)
    assert not rec.has_run
    assert by_currency(rec)["EUR"].not_run == D("10.00")
    assert by_currency(rec)["EUR"].difference == 0


def test_planted_unsettled_usage_shows_under_its_reason_and_the_difference_is_zero(world):
    a, no_agreement = world.a_partner, world.a_other_partner
    no_plan = PartnerFactory()
    assign(no_plan, make_plan()).plan_assignments.all().delete()  # agreement, no plan
    no_rule = PartnerFactory()
    assign(no_rule, make_plan({**PCT30, "rules": [{"product": "music", "type": "percentage",
                                                     "rate": "0.5"}]}))  # fmt: skip
    usage(a, "music", "100.00")
    usage(a, "music", "10.00", currency="USD")  # converted at 0.8
    usage(a, "music", "7.00", currency="USD", when="2026-10-20T10:00:00+00:00")  # no rate
    usage(no_agreement, "music", "20.00")
    usage(no_plan, "video", "30.00")
    usage(no_rule, "music", "40.00")
    usage(no_rule, "tv", "50.00")
    usage(no_rule, "tv", "5.00", currency="USD")  # no rule, in its record currency
    rec = settlement_reconciliation(month=run().month)
    assert rec.has_run
    eur, usd = by_currency(rec)["EUR"], by_currency(rec)["USD"]
    assert eur.basis == D("240.00")
    assert eur.settled == D("140.00")
    assert eur.unsettled == {
        "no_active_agreement": D("20.00"),
        "no_plan": D("30.00"),
        "no_rule_for_product": D("50.00"),
    }
    assert usd.basis == D("22.00")
    assert usd.settled == D("10.00")
    assert usd.unsettled == {"missing_fx_rate": D("7.00"), "no_rule_for_product": D("5.00")}
    assert eur.difference == usd.difference == 0
    assert usd.converted["EUR"] == D("12.00")  # 10 + 5 USD on the 15th at 0.8
    assert usd.not_converted["EUR"] == D("7.00")
    reasons = {(g.reason, g.partner_id, g.currency) for g in rec.unsettled}
    assert ("no_active_agreement", no_agreement.pk, "EUR") in reasons
    assert ("no_plan", no_plan.pk, "EUR") in reasons
    assert ("no_rule_for_product", no_rule.pk, "USD") in reasons
    assert ("missing_fx_rate", a.pk, "USD") in reasons
    [eur_st] = rec.statements
    assert eur_st.currency == "EUR"
    assert eur_st.basis_total == D("148.00")  # 100 + 10 USD at 0.8 + 40
    assert eur_st.basis_difference == 0 and eur_st.share_difference == 0
    assert rec.is_balanced


def test_usage_of_a_partner_created_after_the_run_started_is_reported_unknown(world):
    r = settlement_run_start(month=OCT, chunk_size=200, enqueue=False)
    newcomer = PartnerFactory()
    usage(newcomer, "music", "12.34")
    settlement_run_execute(run=r)
    rec = settlement_reconciliation(month=OCT)
    assert by_currency(rec)["EUR"].unsettled == {"unknown_partner": D("12.34")}
    assert [g.reason for g in rec.unsettled] == ["unknown_partner"]
    assert rec.is_balanced


def test_usage_after_the_run_and_late_usage_are_accounted_for(world):
    a = world.a_partner
    first, second, third = make_import(), make_import(), make_import()
    usage(a, "music", "100.00", import_id=first.pk)
    run()
    usage(a, "music", "1.00", import_id=second.pk)  # after the run, draft month: not yet run
    rec = settlement_reconciliation(month=OCT)
    assert by_currency(rec)["EUR"].not_run == D("1.00")
    assert rec.is_balanced
    run()
    Statement.objects.filter(month=OCT).update(status="approved")
    usage(a, "music", "50.00", import_id=third.pk)  # after approval: late
    rec = settlement_reconciliation(month=OCT)
    assert by_currency(rec)["EUR"].late_pending == D("50.00")
    assert rec.is_balanced
    run(NOV)
    rec = settlement_reconciliation(month=OCT)
    eur = by_currency(rec)["EUR"]
    assert (eur.settled, eur.late_settled, eur.late_pending) == (D("101.00"), D("50.00"), 0)
    assert rec.is_balanced
    nov = settlement_reconciliation(month=NOV)
    [st] = nov.statements
    assert (st.late_usage_basis, st.late_usage_amount) == (D("50.00"), D("15.00"))
    assert nov.is_balanced


def test_a_frozen_statement_keeps_the_unsettled_usage_of_its_own_run(world):
    a = world.a_partner
    usage(a, "music", "7.00", currency="USD", when="2026-10-20T10:00:00+00:00")  # no rate
    usage(a, "music", "10.00")
    run()
    Statement.objects.filter(month=OCT).update(status="approved")
    run()  # skips the frozen partner
    rec = settlement_reconciliation(month=OCT)
    assert by_currency(rec)["USD"].unsettled == {"missing_fx_rate": D("7.00")}
    assert rec.is_balanced


def test_reconciliation_is_zero_on_the_demo_data(db):
    # The usage demo loads for the demo tenant only (as test_usage_demo does).
    demo = TenantFactory(slug="demo", name="Demo", timezone="Europe/Berlin")
    with tenant_context(demo):
        PartnerFactory.create_batch(8)  # the 7th stays without an agreement
        demo_usage.load(demo)
        demo_plans.load(demo)
        months = demo_months()
        for month in months:
            rec = settlement_reconciliation(month=month)
            assert rec.has_run
            assert {u.currency for u in rec.usage} == {"EUR", "USD", "GBP"}
            for u in rec.usage:
                assert u.difference == 0, (month, u)
                assert u.settled > 0
            assert rec.statements
            assert rec.is_balanced, month
            # Some demo partners stay without an agreement: their usage is reported.
            assert {g.reason for g in rec.unsettled} == {"no_active_agreement"}


def test_reconciliation_runs_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for i in range(5):
        p = PartnerFactory()
        assign(p, make_plan())
        usage(p, f"p{i}", "3.00")
        usage(PartnerFactory(), "music", "1.00")
    run()
    with django_assert_max_num_queries(7):
        rec = settlement_reconciliation(month=OCT)
        assert len(rec.unsettled) == 5


def test_a_run_in_progress_is_flagged(world):
    usage(world.a_partner, "music", "10.00")
    settlement_run_start(month=OCT, chunk_size=200, enqueue=False)
    rec = settlement_reconciliation(month=OCT)
    assert rec.run_in_progress and not rec.has_run
