"""What every tenant's partner programme starts with: types, tiers, checklists, settings."""

from __future__ import annotations

from django.db import transaction

from partnerhub.tenancy.models import Tenant
from partners.models import (
    ChecklistKind,
    ChecklistTemplateItem,
    PartnerTier,
    PartnerType,
    ProgramSettings,
)
from partners.models.onboarding import Evidence, Party

BUILTIN_TYPES = [
    ("technology_vendor", "Technology vendor"),
    ("channel_partner", "Channel partner / reseller"),
    ("service_integrator", "Service integrator"),
    ("content_provider", "Content provider"),
    ("infrastructure_provider", "Infrastructure provider"),
]

DEFAULT_TIERS = [("Gold", 3), ("Silver", 2), ("Bronze", 1)]

# (key, title, mandatory, completed by, evidence); partner type None = every type.
ONBOARDING_COMMON = [
    ("company_documents", "Company registration documents", True, Party.PARTNER, Evidence.DOCUMENT),
    ("tax_form", "Tax form", True, Party.PARTNER, Evidence.DOCUMENT),
    ("bank_details", "Bank and payout details", True, Party.PARTNER, Evidence.NOTE),
    ("risk_assessment", "Risk assessment completed", True, Party.CSP, Evidence.NOTE),
    ("contract_signed", "Agreement signed", True, Party.CSP, Evidence.DOCUMENT),
]
ONBOARDING_BY_TYPE = {
    "content_provider": [
        ("content_licence", "Content licence", True, Party.PARTNER, Evidence.DOCUMENT),
        ("api_credentials", "API credentials issued", True, Party.CSP, Evidence.NOTE),
        ("test_traffic", "Test traffic passed", True, Party.EITHER, Evidence.NOTE),
    ],
    "technology_vendor": [
        (
            "security_questionnaire",
            "Security questionnaire",
            True,
            Party.PARTNER,
            Evidence.DOCUMENT,
        ),
        ("integration_test", "Integration test passed", True, Party.EITHER, Evidence.NOTE),
    ],
    "channel_partner": [
        ("sales_training", "Sales training completed", True, Party.PARTNER, Evidence.NOTE),
        ("pos_setup", "Point-of-sale systems set up", False, Party.CSP, Evidence.NONE),
    ],
    "service_integrator": [
        ("certifications", "Staff certifications", True, Party.PARTNER, Evidence.DOCUMENT),
    ],
    "infrastructure_provider": [
        ("insurance", "Insurance certificate", True, Party.PARTNER, Evidence.DOCUMENT),
        ("site_survey", "Site survey accepted", True, Party.CSP, Evidence.NOTE),
    ],
}
OFFBOARDING = [
    ("final_settlement", "Final settlement paid", True, Party.CSP, Evidence.NOTE),
    ("access_revoked", "Portal and API access revoked", True, Party.CSP, Evidence.NONE),
    ("documents_archived", "Documents archived", True, Party.CSP, Evidence.NONE),
]


@transaction.atomic
def partner_programme_setup(tenant: Tenant) -> None:
    """Create the starter types, tiers, checklist templates and settings (idempotent)."""
    ProgramSettings.objects.get_or_create(tenant=tenant)
    types = {}
    for key, name in BUILTIN_TYPES:
        types[key], _ = PartnerType.objects.get_or_create(
            key=key, defaults={"name": name, "is_builtin": True, "tenant": tenant}
        )
    for name, rank in DEFAULT_TIERS:
        PartnerTier.objects.get_or_create(name=name, defaults={"rank": rank, "tenant": tenant})
    plan = [(ChecklistKind.ONBOARDING, None, ONBOARDING_COMMON)]
    plan += [(ChecklistKind.ONBOARDING, types[k], items) for k, items in ONBOARDING_BY_TYPE.items()]
    plan.append((ChecklistKind.OFFBOARDING, None, OFFBOARDING))
    for kind, partner_type, items in plan:
        offset = 0 if partner_type is None else 100
        for position, (key, title, mandatory, party, evidence) in enumerate(items, start=offset):
            ChecklistTemplateItem.objects.get_or_create(
                kind=kind,
                partner_type=partner_type,
                key=key,
                defaults={
                    "tenant": tenant,
                    "title": title,
                    "mandatory": mandatory,
                    "completed_by": party,
                    "evidence": evidence,
                    "position": position,
                },
            )
