"""The onboarding demo: histories lead to each partner's status, checklists match the stage,
it is idempotent, and the partners the browser tests rely on are in place."""

from __future__ import annotations

import itertools

import pytest
from django.db.models import Count

from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import membership_set
from partners.demo import onboarding, registry
from partners.demo.onboarding import lifecycle_path
from partners.models import (
    ChecklistStep,
    Document,
    Partner,
    PartnerStatus,
    RiskAssessment,
    StatusTransition,
)
from partners.models.onboarding import Party
from partners.services.onboarding import ALLOWED_TRANSITIONS
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

S = PartnerStatus


def _counts() -> tuple[int, ...]:
    return (
        StatusTransition.objects.count(),
        ChecklistStep.objects.filter(state="done").count(),
        Document.objects.count(),
        RiskAssessment.objects.count(),
    )


def _load(demo: Tenant) -> None:
    # Only the registry demo (which creates the partners) and this one: the whole load_demo
    # (KPIs, agreements, ...) would dominate the runtime.
    with tenant_context(demo):
        registry.load(demo)
        onboarding.load(demo)


def test_the_demo_onboarding_data_is_consistent_and_idempotent() -> None:
    demo = TenantFactory(name="Demo Telecom", slug="demo")
    manager = UserFactory(email="manager@demo.test")
    membership_set(tenant=demo, user=manager, role=Role.PARTNER_MANAGER)
    _load(demo)
    with tenant_context(demo):
        partners = list(Partner.objects.all())
        assert len(partners) >= 30
        for partner in partners:
            history = list(StatusTransition.objects.filter(partner=partner).order_by("at", "id"))
            assert [t.to_status for t in history] == lifecycle_path(partner), partner
            assert history[-1].to_status == partner.status
            for before, after in itertools.pairwise(history):
                assert after.from_status == before.to_status
                assert PartnerStatus(after.to_status) in ALLOWED_TRANSITIONS[before.to_status]
                assert after.at > before.at
            assert partner.status_changed_at == history[-1].at
            open_mandatory = ChecklistStep.objects.filter(
                partner=partner, kind="onboarding", mandatory=True, state="pending"
            )
            if partner.status in (S.ACTIVE, S.SUSPENDED, S.OFFBOARDING, S.EXITED):
                assert not open_mandatory.exists(), partner
            if partner.status == S.EXITED:
                assert not ChecklistStep.objects.filter(
                    partner=partner, kind="offboarding", state="pending"
                ).exists()
            for step in ChecklistStep.objects.filter(partner=partner, state="done"):
                if step.evidence == "document":
                    assert step.document is not None and step.document.partner_id == partner.pk
                if step.evidence == "note":
                    assert step.note
            reached_dd = S.DUE_DILIGENCE in lifecycle_path(partner)
            assert RiskAssessment.objects.filter(partner=partner).exists() == reached_dd, partner

        nordtower = Partner.objects.get(trading_name="NordTower Infrastructure")
        assert nordtower.status == S.DUE_DILIGENCE
        waiting = set(
            ChecklistStep.objects.filter(partner=nordtower, state="pending").values_list(
                "key", flat=True
            )
        )
        assert {"tax_form", "insurance"} <= waiting

        # The browser test takes a partner in integration to active: one whose open steps
        # are all for CSP staff (or either side), none waiting for the partner.
        ready = [
            p
            for p in Partner.objects.filter(status=S.INTEGRATION)
            if not ChecklistStep.objects.filter(
                partner=p, mandatory=True, state="pending", completed_by_party=Party.PARTNER
            ).exists()
            and ChecklistStep.objects.filter(partner=p, state="pending").exists()
        ]
        assert ready
        assert Partner.objects.filter(status=S.APPLIED).exists()
        by_status = dict(
            Partner.objects.order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        before = _counts()

    _load(demo)
    with tenant_context(demo):
        assert _counts() == before
        assert by_status == dict(
            Partner.objects.order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
