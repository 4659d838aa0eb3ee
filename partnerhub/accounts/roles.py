"""Roles and what each may do: the one place both pages and API ask.

``docs/permissions.md`` is generated from this module (``manage.py permissions_doc``) and a
test fails when the two disagree.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Tenant admin"
    PARTNER_MANAGER = "partner_manager", "Partner manager"
    FINANCE = "finance", "Finance"
    VIEWER = "viewer", "Read-only viewer"
    PARTNER = "partner", "Partner user (portal)"


class Perm(StrEnum):
    """A permission: ``<area>.<action>``. Views and endpoints declare the ones they need."""

    DASHBOARD_VIEW = "dashboard.view"
    TENANT_MANAGE = "tenant.manage"
    AUDIT_VIEW = "audit.view"
    PARTNERS_VIEW = "partners.view"
    PARTNERS_CHANGE = "partners.change"
    PARTNERS_BANK_DETAILS_CHANGE = "partners.bank_details.change"
    KPIS_VIEW = "kpis.view"
    KPIS_CHANGE = "kpis.change"
    SETTLEMENTS_VIEW = "settlements.view"
    SETTLEMENTS_CHANGE = "settlements.change"
    SETTLEMENTS_APPROVE = "settlements.approve"
    API_TOKENS_OWN = "api_tokens.own"
    PORTAL_ACCESS = "portal.access"


PERM_DESCRIPTIONS: dict[Perm, str] = {
    Perm.DASHBOARD_VIEW: "See the dashboard and their own profile",
    Perm.TENANT_MANAGE: "Manage the tenant: members, roles, settings, everyone's API tokens",
    Perm.AUDIT_VIEW: "Read the audit trail of the tenant",
    Perm.PARTNERS_VIEW: "See partners, contacts, agreements, interactions and disputes",
    Perm.PARTNERS_CHANGE: "Create and change partners, onboarding, agreements, interactions",
    Perm.PARTNERS_BANK_DETAILS_CHANGE: "Change a partner's bank and payout details",
    Perm.KPIS_VIEW: "See KPI definitions, targets, measurements, scorecards and alerts",
    Perm.KPIS_CHANGE: "Change KPI definitions and targets, submit measurements, handle alerts",
    Perm.SETTLEMENTS_VIEW: "See usage, plans, settlement runs and statements",
    Perm.SETTLEMENTS_CHANGE: "Import usage, edit plans and FX rates, start settlement runs",
    Perm.SETTLEMENTS_APPROVE: "Approve statements and mark them paid",
    Perm.API_TOKENS_OWN: "Create, list and revoke their own API tokens",
    Perm.PORTAL_ACCESS: "Use the partner portal, for their own partner only",
}

_VIEW = frozenset(
    {
        Perm.DASHBOARD_VIEW,
        Perm.PARTNERS_VIEW,
        Perm.KPIS_VIEW,
        Perm.SETTLEMENTS_VIEW,
        Perm.API_TOKENS_OWN,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm) - {Perm.SETTLEMENTS_APPROVE, Perm.PORTAL_ACCESS},
    Role.PARTNER_MANAGER: _VIEW | {Perm.PARTNERS_CHANGE, Perm.KPIS_CHANGE},
    Role.FINANCE: _VIEW
    | {Perm.PARTNERS_BANK_DETAILS_CHANGE, Perm.SETTLEMENTS_CHANGE, Perm.SETTLEMENTS_APPROVE},
    Role.VIEWER: _VIEW,
    Role.PARTNER: frozenset({Perm.PORTAL_ACCESS, Perm.API_TOKENS_OWN}),
}


def role_has_perm(role: str | None, perm: Perm) -> bool:
    if role is None:
        return False
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def permissions_markdown() -> str:
    """The role/permission table as Markdown, for docs/permissions.md."""
    roles = list(Role)
    lines = [
        "# Roles and permissions",
        "",
        "Generated from `partnerhub/accounts/roles.py` by `python manage.py permissions_doc`;",
        "a test fails when this file and the code disagree. Pages and API endpoints declare the",
        "permission they need and both ask `role_has_perm`. Platform staff (`is_staff`) use the",
        "Django admin; it is not a tenant role.",
        "",
        "| permission | meaning | " + " | ".join(r.label for r in roles) + " |",
        "| --- | --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for perm in Perm:
        marks = " | ".join("yes" if perm in ROLE_PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{perm.value}` | {PERM_DESCRIPTIONS[perm]} | {marks} |")
    lines.append("")
    return "\n".join(lines)
