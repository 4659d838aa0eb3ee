"""The foreign objects of the isolation matrix: one set per (tenant, partner), marked.

Every object a URL kwarg can point at gets one instance here; its names carry a marker
("ZZFOREIGN..." or "ZZOTHERPARTNER...") and its amounts distinctive figures, so a leak shows
up in any response body. Ids start at a distinctive base (sequences are moved first), so they
can be searched for as whole tokens too. To cover a new model, add one object below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connections, models

from kpis.models import DriftAlert, KpiDefinition, KpiMeasurement, KpiTarget, MeasurementImport
from partnerhub.accounts.models import ApiToken, User
from partnerhub.accounts.services import api_token_create
from partnerhub.audit.models import AuditEntry
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partners.models import Agreement, AgreementStatus, AgreementType, Dispute, Partner
from partners.models.onboarding import ChecklistKind, ChecklistStep, ChecklistTemplateItem, Party
from partners.models.registry import (
    ChangeRequest,
    Contact,
    Document,
    DocumentType,
    PartnerTier,
    PartnerType,
    Tag,
)
from settlements.models import FxRate, RevenueSharePlan, Statement, UsageImport, UsageRecord
from settlements.models.engine import SettlementRun, StatementLine
from settlements.models.exports import SettlementExport
from settlements.models.statements import StatementAdjustment, StatementDispute
from settlements.models.usage import Product
from tests.partners.factories import ContactFactory, PartnerFactory
from tests.settlements.engine_helpers import make_plan
from tests.settlements.export_helpers import make_statement


@dataclass
class World:
    """Foreign objects by model, and what must never show up in a response for an outsider."""

    tenant: Tenant
    marker: str  # on the partner's own rows
    tenant_marker: str  # on tenant-wide rows (KPI definitions, tiers, products, plans...)
    objects: dict[type[models.Model], models.Model] = field(default_factory=dict)
    texts: set[str] = field(default_factory=set)
    amounts: set[str] = field(default_factory=set)

    def add(self, obj: models.Model, *texts: str) -> None:
        self.objects.setdefault(type(obj), obj)
        self.texts.update(texts)

    def ids(self) -> set[int]:
        return {int(obj.pk) for obj in self.objects.values()}


def sequences_restart(base: int) -> None:
    """Move every id sequence to ``base`` so the next rows have recognisable ids.

    Sequences are not transactional: the jump (made as the owner, who may move them) survives
    the test's rollback, which only makes later ids larger.
    """
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT schemaname || '.' || quote_ident(sequencename) FROM pg_sequences "
            "WHERE schemaname = 'public' AND (last_value IS NULL OR last_value < %s)",
            [base],
        )
        for (name,) in cursor.fetchall():
            cursor.execute("SELECT setval(%s, %s)", [name, base])


def world_build(
    *, tenant: Tenant, marker: str, tenant_marker: str, amount: str, user: User, base: int
) -> World:
    """One partner of ``tenant`` and everything hanging off it, every name carrying ``marker``
    (``tenant_marker`` on the tenant-wide rows, which every member of the tenant may see)."""
    sequences_restart(base)
    world = World(
        tenant=tenant,
        marker=marker,
        tenant_marker=tenant_marker,
        amounts={amount, amount.replace(".", ",")},
    )
    with tenant_context(tenant):
        partner = PartnerFactory(legal_name=f"{marker} Legal Ltd", trading_name=f"{marker} Trading")
        world.add(partner, marker)
        world.add(ContactFactory(partner=partner, name=f"{marker} Contact"))
        agreement = Agreement.objects.create(
            partner=partner,
            agreement_type=AgreementType.REVENUE_SHARE,
            reference=f"{marker}-AGR",
            title=f"{marker} agreement",
            status=AgreementStatus.ACTIVE,
            start_date=date(2026, 1, 1),
        )
        world.add(agreement)
        world.add(
            Dispute.objects.create(
                partner=partner,
                category=Dispute.Category.values[0],
                title=f"{marker} dispute",
                description=f"{marker} description",
            )
        )
        wide = tenant_marker
        world.add(PartnerTier.objects.create(name=f"{wide[:40]} tier"))
        world.add(Tag.objects.create(name=f"{wide[:40]} tag"))
        world.add(PartnerType.objects.order_by("pk").first())  # type: ignore[arg-type]
        world.add(ChecklistTemplateItem.objects.order_by("pk").first())  # type: ignore[arg-type]
        world.add(Product.objects.create(code=f"{wide.lower()}-prod", name=f"{wide} product"))
        world.add(
            FxRate.objects.create(
                date=date(2026, 10, 1), base="EUR", quote="XAU", rate=Decimal("0.0001234567")
            )
        )
        world.add(
            KpiDefinition.objects.create(
                key=f"{wide.lower()}_kpi",
                name=f"{wide} KPI",
                unit="count",
                direction="lower_better",
                aggregation="sum",
            )
        )
        world.add(
            DriftAlert.objects.create(
                partner=partner,
                kpi=world.objects[KpiDefinition],
                detected_on=date(2026, 10, 20),
                kind=DriftAlert.Kind.SHIFT,
                direction="up",
                size=Decimal("1.3"),
                baseline_value=Decimal("2.1"),
                recent_value=Decimal(amount),
                explanation=f"{marker} drift",
            )
        )
        usage_import = UsageImport.objects.create(source="api", status=UsageImport.Status.DONE)
        world.add(usage_import)
        world.add(
            UsageRecord.objects.create(
                partner=partner,
                product_code="music",
                event_time="2026-10-15T12:00:00+00:00",
                quantity=Decimal("1"),
                gross_amount=Decimal(amount),
                tax_amount=Decimal("0"),
                currency="EUR",
                external_id=f"{marker}-usage",
                usage_import_id=usage_import.pk,
            )
        )
        statement = make_statement(
            partner, basis=amount, share=amount, description=f"{marker} line"
        )
        world.add(statement)
        world.add(statement.lines.get())
        world.add(RevenueSharePlan.objects.get(pk=statement.plan_version.plan_id))
        world.add(make_plan(name=f"{wide} plan"))
        token = api_token_create(user=user, name=f"{marker} token")
        world.add(ApiToken.objects.get(pk=token.token.pk))
        _more(world, partner=partner, user=user, amount=amount)
    return world


def _more(world: World, *, partner: Partner, user: User, amount: str) -> None:
    """The objects of the later areas: onboarding, change requests, documents, KPI targets,
    measurements and imports, runs, exports, adjustments, statement disputes, the audit."""
    marker = world.marker
    world.add(
        ChecklistStep.objects.create(
            partner=partner,
            kind=ChecklistKind.ONBOARDING,
            key=f"{marker.lower()}-step",
            title=f"{marker} step",
            completed_by_party=Party.PARTNER,
        )
    )
    world.add(
        ChangeRequest.objects.create(
            partner=partner, kind=ChangeRequest.Kind.COMPANY, payload={"legal_name": marker}
        )
    )
    world.add(
        Document.objects.create(
            partner=partner,
            doc_type=DocumentType.TAX_FORM,
            title=f"{marker} document",
            file=f"tenants/{world.tenant.pk}/{marker}.pdf",
            original_name=f"{marker}.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
        )
    )
    kpi = world.objects[KpiDefinition]
    world.add(
        KpiTarget.objects.create(
            kpi=kpi, partner=partner, value=Decimal(amount), effective_from=date(2026, 1, 1)
        )
    )
    world.add(
        KpiMeasurement.objects.create(
            partner=partner,
            kpi=kpi,
            date=date(2026, 10, 1),
            value=Decimal(amount),
            origin=KpiMeasurement.Origin.API,
        )
    )
    wide = world.tenant_marker
    world.add(MeasurementImport.objects.create(file=f"{wide}.csv", original_name=f"{wide}.csv"))
    world.add(SettlementRun.objects.create(month=date(2026, 9, 1)))
    world.add(
        SettlementExport.objects.create(
            kind=SettlementExport.Kind.STATEMENTS,
            file_format=SettlementExport.Format.CSV,
            month=date(2026, 10, 1),
            partner=partner,
            file_name=f"{marker}.csv",
        )
    )
    statement = world.objects[Statement]
    world.add(
        StatementAdjustment.objects.create(
            partner=partner, currency="EUR", amount=Decimal(amount), reason=f"{marker} adjustment"
        )
    )
    dispute = Dispute.objects.create(
        partner=partner,
        category=Dispute.Category.SETTLEMENT,
        title=f"{marker} statement dispute",
        description=marker,
    )
    world.add(StatementDispute.objects.create(dispute=dispute, statement=statement))
    world.add(AuditEntry.objects.order_by("-pk").first())  # type: ignore[arg-type]


def pk_of(world: World, model: type[models.Model]) -> Any:
    obj = world.objects.get(model)
    return None if obj is None else obj.pk


__all__ = ["Contact", "StatementLine", "World", "pk_of", "world_build"]
