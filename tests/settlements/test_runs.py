"""Settlement runs in the database: SQL aggregation with FX, unsettled usage, idempotence,
frozen statements and late usage, one run at a time, fan-out = single process, isolation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from partnerhub.tenancy.context import tenant_context
from settlements.models import FxRate, SettlementRun, Statement
from settlements.services.runs import (
    settlement_nightly,
    settlement_run_execute,
    settlement_run_start,
)
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import (
    PCT30,
    assign,
    fx,
    make_import,
    make_plan,
    snapshot,
    usage,
)

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)


def run(month=OCT, chunk_size=200):
    r = settlement_run_start(month=month, chunk_size=chunk_size, enqueue=False)
    return settlement_run_execute(run=r)


@pytest.fixture
def world(personas, as_tenant_a):
    p = personas
    plan = make_plan()
    assign(p.a_partner, plan)
    fx("2026-10-15", "EUR", "USD", "1.25")  # inverse: 1 USD = 0.8 EUR
    fx("2026-10-16", "USD", "EUR", "0.9")  # direct
    fx("2026-10-15", "EUR", "GBP", "0.8")
    return p


def test_run_converts_each_record_with_its_day_rate_in_sql(world):
    a = world.a_partner
    usage(a, "music", "100.00")  # EUR
    usage(a, "music", "10.00", currency="USD")  # 15 Oct: 1/1.25 = 0.8 → 8.00
    usage(a, "video", "10.00", currency="USD", when="2026-10-16T10:00:00+00:00")  # 0.9 → 9.00
    usage(a, "video", "4.00", currency="GBP")  # via inverse 1/0.8 = 1.25 → 5.00
    r = run()
    assert r.status == SettlementRun.Status.DONE
    st = Statement.objects.get(partner=a, month=OCT)
    assert st.basis_total == D("122.00")
    assert st.partner_share == D("36.60")
    assert st.csp_share == D("85.40")
    line = st.lines.get()
    assert line.record_count == 4
    assert D(line.trace["products"]["music"]["fx"]["USD"]["rate_min"]) == D("0.8")
    assert line.trace["usage"]["partner"] == a.pk
    assert r.fx_rates["2026-10-16"]["USD/EUR"] == "0.9"


def test_month_usage_equals_statement_basis_plus_unsettled(world):
    a, other = world.a_partner, world.a_other_partner  # other: no agreement
    plain = PartnerFactory()
    assign(
        plain,
        make_plan({**PCT30, "rules": [{"product": "music", "type": "percentage", "rate": "0.5"}]}),
    )
    amounts = ["10.01", "0.05", "-3.33", "7.77", "99.99"]
    for i, amount in enumerate(amounts):
        usage(a, f"p{i}", amount)
        usage(other, "music", amount)
        usage(plain, "music" if i % 2 else "tv", amount)
    usage(a, "music", "5.00", currency="CHF")  # no rate: unsettled, reported
    r = run()
    month_total = D(0)
    for amount in amounts:
        month_total += 3 * D(amount)
    basis = sum(s.basis_total for s in Statement.objects.filter(month=OCT))
    unsettled_eur = sum(D(u["basis"]) for u in r.unsettled if u["currency"] == "EUR")
    assert basis + unsettled_eur == month_total
    reasons = {(u["reason"], u["partner_id"]) for u in r.unsettled}
    assert ("no_active_agreement", other.pk) in reasons
    assert ("no_rule_for_product", plain.pk) in reasons
    assert ("missing_fx_rate", a.pk) in reasons


def test_rerun_is_identical_and_reuses_its_fx_rates(world):
    a = world.a_partner
    usage(a, "music", "10.00", currency="USD")
    usage(a, "music", "33.33")
    run()
    first = snapshot()
    FxRate.objects.filter(date=date(2026, 10, 15)).update(rate=D("2"))
    second_run = run()
    assert snapshot() == first
    assert second_run.fx_rates["2026-10-15"]["USD/EUR"] == "0.8"


def test_rerun_never_touches_frozen_statements_and_late_usage_goes_to_next_open_month(world):
    a = world.a_partner
    first, second = make_import(), make_import()
    usage(a, "music", "100.00", import_id=first.pk)
    run()
    Statement.objects.filter(partner=a, month=OCT).update(status="approved")
    frozen = snapshot()
    usage(a, "music", "50.00", import_id=second.pk)  # arrives after October was approved
    run()
    assert snapshot() == frozen  # October untouched
    run(NOV)
    nov = Statement.objects.get(partner=a, month=NOV)
    lines = list(nov.lines.values_list("kind", "amount"))
    assert ("late_usage", D("15.00")) in lines
    assert nov.late_imports == [second.pk]
    # November approved too: a December run does not settle import 2 again.
    Statement.objects.filter(partner=a, month=NOV).update(status="approved")
    run(date(2026, 12, 1))
    dec = Statement.objects.get(partner=a, month=date(2026, 12, 1))
    assert not dec.lines.filter(kind="late_usage").exists()


def test_minimum_guarantee_pays_without_usage(world):
    plan = make_plan({**PCT30, "minimum_guarantee": "500.00"})
    b = PartnerFactory()
    assign(b, plan)
    run()
    assert Statement.objects.get(partner=b, month=OCT).partner_share == D("500.00")


def test_month_follows_the_tenant_time_zone(world):
    world.tenant_a.timezone = "Europe/Berlin"
    world.tenant_a.save()
    a = world.a_partner
    usage(a, "music", "10.00", when="2026-10-31T23:30:00+00:00")  # 1 Nov 00:30 in Berlin
    usage(a, "music", "20.00", when="2026-09-30T22:30:00+00:00")  # 1 Oct 00:30 in Berlin
    run()
    assert Statement.objects.get(partner=a, month=OCT).basis_total == D("20.00")


def test_only_one_active_run_per_month(world):
    settlement_run_start(month=OCT, enqueue=False)
    with pytest.raises(ValidationError, match="already in progress"):
        settlement_run_start(month=OCT, enqueue=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementRun.objects.create(month=OCT, status=SettlementRun.Status.RUNNING)
    settlement_run_start(month=NOV, enqueue=False)  # another month is fine


def test_fanned_out_chunks_equal_a_single_chunk(world):
    partners = [world.a_partner] + [PartnerFactory() for _ in range(6)]
    plans = [make_plan(), make_plan({**PCT30, "currency": "JPY", "minimum_guarantee": "100"})]
    for i, partner in enumerate(partners[1:]):
        assign(partner, plans[i % 2])
    fx("2026-10-15", "EUR", "JPY", "160.5")
    for i, partner in enumerate(partners):
        for j in range(5):
            usage(partner, f"p{j}", f"{i * 7 + j}.{j}3")
    run(chunk_size=1000)
    single = snapshot()
    fanned = run(chunk_size=2)
    assert fanned.chunks_total == 4
    assert snapshot() == single


def test_nightly_refreshes_open_month_and_closes_previous_after_close_day(world, settings):
    settings.SETTLEMENT_CLOSE_DAY = 5
    started = settlement_nightly(today=date(2026, 11, 3))
    assert [(r.month, r.is_close) for r in started] == [(NOV, False)]
    for r in started:
        settlement_run_execute(run=r)
    started = settlement_nightly(today=date(2026, 11, 6))
    assert [(r.month, r.is_close) for r in started] == [(OCT, True), (NOV, False)]


def test_tenant_b_usage_never_reaches_tenant_a(world):
    usage(world.a_partner, "music", "10.00")
    with tenant_context(world.tenant_b):
        plan = make_plan()
        assign(world.b_partner, plan)
        usage(world.b_partner, "music", "999.00")
    r = run()
    assert list(Statement.objects.values_list("partner_id", flat=True)) == [world.a_partner.pk]
    assert Statement.objects.get().basis_total == D("10.00")
    assert not r.unsettled


def test_rerun_records_each_deleted_draft_and_line_in_the_audit_trail(world):
    from django.contrib.contenttypes.models import ContentType

    from partnerhub.audit.models import AuditEntry
    from settlements.models import StatementLine

    a, b = world.a_partner, PartnerFactory()
    assign(b, make_plan())
    usage(a, "music", "10.00", currency="USD")
    usage(b, "video", "33.33")
    run()
    Statement.objects.filter(partner=b, month=OCT).update(status="approved")
    draft = Statement.objects.get(partner=a, month=OCT)
    line_ids = sorted(str(pk) for pk in draft.lines.values_list("pk", flat=True))
    frozen = snapshot()
    seen = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    run()
    new = AuditEntry.objects.filter(pk__gt=seen, action=AuditEntry.Action.DELETE)
    stmt_ct = ContentType.objects.get_for_model(Statement)
    line_ct = ContentType.objects.get_for_model(StatementLine)
    [entry] = new.filter(content_type=stmt_ct)
    assert entry.object_pk == str(draft.pk) and entry.object_id == draft.pk
    assert entry.object_repr == str(draft)
    assert entry.tenant_id == draft.tenant_id
    assert entry.changes["status"] == ["draft", "None"]
    assert entry.changes["covered_imports"] == [str(draft.covered_imports), "None"]
    assert entry.changes["created_at"][0] == str(draft.created_at.replace(tzinfo=None))
    assert entry.changes["partner_share"] == [str(draft.partner_share), "None"]
    assert sorted(new.filter(content_type=line_ct).values_list("object_pk", flat=True)) == line_ids
    # Every field with a value is recorded, so a field added to the models later cannot be
    # silently left out of the hand-written audit SQL.
    assert set(entry.changes) >= {
        f.name for f in Statement._meta.concrete_fields if getattr(draft, f.attname) is not None
    }
    line = new.filter(content_type=line_ct).first()
    assert line is not None
    assert set(line.changes) >= {
        f.name for f in StatementLine._meta.concrete_fields if f.name not in ("trace",)
    } - {f.name for f in StatementLine._meta.concrete_fields if f.null}
    # The approved statement of b is neither deleted nor audited; a's numbers are unchanged.
    assert snapshot() == frozen
