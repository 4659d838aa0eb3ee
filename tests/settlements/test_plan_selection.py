"""Which plan version settles a partner's month (``partner_plans_for_month``), case by case."""

from __future__ import annotations

from datetime import date

from partnerhub.tenancy.context import tenant_context
from partners.models import Agreement, AgreementStatus, AgreementType
from settlements.selectors.plans import NO_AGREEMENT, NO_PLAN, partner_plans_for_month
from settlements.services.plans import plan_assignment_create, plan_version_create
from tests.partners.factories import PartnerFactory
from tests.settlements.engine_helpers import PCT30, make_plan

MARCH = date(2026, 3, 1)


def agreement(partner, reference: str, **fields) -> Agreement:
    return Agreement.objects.create(
        partner=partner,
        agreement_type=AgreementType.REVENUE_SHARE,
        reference=reference,
        title="Revenue share",
        status=fields.pop("status", AgreementStatus.ACTIVE),
        start_date=fields.pop("start_date", date(2026, 1, 1)),
        **fields,
    )


def test_each_partner_gets_the_assignment_in_force_on_the_first_else_the_latest_starting(
    personas,
) -> None:
    tenant = personas.tenant_a
    with tenant_context(tenant):
        partners = [PartnerFactory(tenant=tenant) for _ in range(7)]
        on_first, mid_month, late_start, early_start, ended, draft, bare = partners
        old, new, other = make_plan(), make_plan(), make_plan()
        newest = plan_version_create(plan=new, content={**PCT30, "name": new.name})
        first_of_old = old.versions.get()

        # In force on 1 March on one agreement, a second agreement's plan starting on 10 March.
        plan_assignment_create(
            agreement=agreement(on_first, "A1"), plan=old, effective_from=date(2026, 2, 1)
        )
        plan_assignment_create(
            agreement=agreement(on_first, "A2"), plan=other, effective_from=date(2026, 3, 10)
        )
        agreement(on_first, "A3")  # and an active agreement without any plan
        # Nothing on the 1st: the latest start within the month wins (its plan's newest version).
        first = agreement(mid_month, "B1")
        plan_assignment_create(
            agreement=first,
            plan=old,
            effective_from=date(2026, 1, 1),
            effective_to=date(2026, 2, 28),
        )
        plan_assignment_create(agreement=first, plan=other, effective_from=date(2026, 3, 5))
        plan_assignment_create(
            agreement=agreement(mid_month, "B2"), plan=new, effective_from=date(2026, 3, 20)
        )
        # Starting after the month: not this month's.
        plan_assignment_create(
            agreement=agreement(late_start, "C1"), plan=old, effective_from=date(2026, 4, 1)
        )
        # Two in force on the 1st (two agreements): the later start.
        plan_assignment_create(
            agreement=agreement(early_start, "D1"), plan=old, effective_from=date(2026, 1, 1)
        )
        plan_assignment_create(
            agreement=agreement(early_start, "D2"), plan=new, effective_from=date(2026, 2, 1)
        )
        # An agreement that ended before the month, one not active: no agreement for March.
        plan_assignment_create(
            agreement=agreement(ended, "E1", end_date=date(2026, 2, 28)),
            plan=old,
            effective_from=date(2026, 1, 1),
        )
        plan_assignment_create(
            agreement=agreement(draft, "F1", status=AgreementStatus.DRAFT),
            plan=old,
            effective_from=date(2026, 1, 1),
        )
        agreement(bare, "G1")  # active, no plan

        found = partner_plans_for_month(partner_ids=[p.pk for p in partners], month=MARCH)

    def chosen(partner):
        pp = found[partner.pk]
        return pp.version.pk if pp.version else pp.reason

    assert chosen(on_first) == first_of_old.pk
    assert chosen(mid_month) == newest.pk
    assert chosen(late_start) == NO_PLAN
    assert chosen(early_start) == newest.pk
    assert chosen(ended) == NO_AGREEMENT
    assert chosen(draft) == NO_AGREEMENT
    assert chosen(bare) == NO_PLAN
