"""The statement demo: one approved and one paid statement in the oldest demo month (hashes
right), an adjustment of the paid one settled in the next month's draft; loads twice."""

from __future__ import annotations

from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.services import membership_set
from settlements import demo_plans, demo_statements, demo_usage
from settlements.models import Statement, StatementAdjustment
from settlements.services.statements import statement_content_hash
from tests.factories import TenantFactory, UserFactory
from tests.partners.factories import PartnerFactory


def test_demo_has_an_approved_and_a_paid_statement(db) -> None:
    tenant = TenantFactory(slug="demo", name="Demo", timezone="Europe/Berlin")
    finance = UserFactory(email=demo_statements.FINANCE_EMAIL)
    membership_set(tenant=tenant, user=finance, role=Role.FINANCE)
    with tenant_context(tenant):
        PartnerFactory.create_batch(3, status="active")
        demo_usage.load(tenant)
        demo_plans.load(tenant)
        demo_statements.load(tenant)
        first, second = demo_usage.demo_months()[:2]
        frozen = list(Statement.objects.filter(month=first).exclude(status="draft"))
        assert sorted(s.status for s in frozen) == ["approved", "paid"]
        for statement in frozen:
            lines = list(statement.lines.all())
            assert statement.content_hash == statement_content_hash(statement, lines)
        adjustment = StatementAdjustment.objects.get()
        assert adjustment.corrects_statement.status == "paid"
        assert adjustment.settled_in.month == second and adjustment.settled_in.status == "draft"
        assert adjustment.settled_in.lines.filter(kind="adjustment").count() == 1
        demo_plans.load(tenant)
        demo_statements.load(tenant)
        assert StatementAdjustment.objects.count() == 1
        assert Statement.objects.filter(month=first).exclude(status="draft").count() == 2
        adjustment.refresh_from_db()
        assert adjustment.settled_in.month == second
