"""What the isolation matrix needs to know that the code cannot tell it: the model behind a
page's URL kwarg, literal kwargs, and the deliberately public views (each with its reason)."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework.views import APIView

from kpis.models import DriftAlert, KpiDefinition, MeasurementImport
from partnerhub.accounts.permissions import HasRolePermission, RolePermissionRequiredMixin
from partnerhub.accounts.roles import Role, role_has_perm
from partners.access import IsPortalUser, PortalRequiredMixin
from partners.api.relationship import IsTenantMember
from partners.models import Agreement, Dispute, Partner
from partners.models.onboarding import ChecklistStep, ChecklistTemplateItem
from partners.models.registry import ChangeRequest, Contact, Document
from partners.views.relationship import MemberRequiredMixin
from settlements.models import RevenueSharePlan, Statement, UsageImport
from settlements.models.engine import SettlementRun, StatementLine
from settlements.models.exports import SettlementExport
from settlements.models.statements import StatementDispute
from tests.security.urlwalk import UrlCase, infer_model

# Kwargs that mean the same model wherever they appear.
KWARG_MODELS: dict[str, type[models.Model]] = {
    "partner_pk": Partner,
    "contact_pk": Contact,
    "line_pk": StatementLine,
    "step_pk": ChecklistStep,
    "item_pk": ChecklistTemplateItem,
    "link_pk": StatementDispute,
}

# Pages (plain Django views) do not say which model their ``pk`` is: URL name -> model.
PAGE_PK_MODELS: dict[str, type[models.Model]] = {
    **{
        f"partners:{name}": Partner
        for name in [
            "detail",
            "edit",
            "contacts",
            "contacts-export",
            "contact-add",
            "contact-edit",
            "contact-delete",
            "bank-details",
            "documents",
            "documents-export",
            "document-upload",
            "onboarding-panel",
            "onboarding-transition",
            "onboarding-step",
            "onboarding-risk",
            "agreements-panel",
            "interactions-panel",
            "interactions-export",
            "disputes-panel",
        ]
    },
    "partners:document-download": Document,
    "partners:document-delete": Document,
    "partners:change-request-approve": ChangeRequest,
    "partners:change-request-reject": ChangeRequest,
    **{
        f"partners:agreement-{name}": Agreement
        for name in ["detail", "edit", "amend", "transition", "review", "sign", "delete"]
    },
    **{
        f"partners:dispute-{name}": Dispute
        for name in ["detail", "comment", "transition", "assign"]
    },
    "portal:step-complete": ChecklistStep,
    "portal:document-download": Document,
    "portal:agreement-detail": Agreement,
    "portal:agreement-accept": Agreement,
    "portal:dispute-detail": Dispute,
    "kpis:partner": Partner,
    "kpis:partner-summary": Partner,
    "kpis:definition-edit": KpiDefinition,
    "kpis:import": MeasurementImport,
    "kpis:import-progress": MeasurementImport,
    "kpis:alert-detail": DriftAlert,
    "kpis:alert-action": DriftAlert,
    **{
        f"settlements_portal:statement-{name}": Statement
        for name in ["detail", "line-usage", "pdf", "csv"]
    },
    "settlements_portal:export-download": SettlementExport,
    "settlements:usage-import-detail": UsageImport,
    "settlements:plan-detail": RevenueSharePlan,
    "settlements:run-detail": SettlementRun,
    "settlements:partner-statements": Partner,
    "settlements:export-detail": SettlementExport,
    "settlements:export-download": SettlementExport,
    **{
        f"settlements:statement-{name}": Statement
        for name in [
            "pdf",
            "detail",
            "approve",
            "paid",
            "adjustment-add",
            "dispute-open",
            "dispute-resolve",
            "line-usage",
        ]
    },
}

# Kwargs that are not object ids: a plausible literal value.
LITERAL_KWARGS: dict[str, str] = {
    "action": "complete",
    "verb": "acknowledge",
    "token": "set-password",
    "uidb64": "MQ",
}

# Deliberately public (or "any signed-in user, about themselves") views, with the reason.
# These declare no role permission; the matrix still checks their bodies for foreign data.
PUBLIC_VIEWS: dict[str, str] = {
    "accounts:login": "sign-in form",
    "accounts:login-otp": "second sign-in step, bound to the half-signed-in session",
    "accounts:logout": "signs the caller out, nothing else",
    "accounts:password-change": "the signed-in user's own password (login_required)",
    "accounts:password-change-done": "static confirmation",
    "accounts:password-reset": "password reset request, rate-limited, no account enumeration",
    "accounts:password-reset-done": "static confirmation",
    "accounts:password-reset-confirm": "needs a valid signed reset token",
    "accounts:password-reset-complete": "static confirmation",
    "accounts:two-factor": "the signed-in user's own second factor (login_required)",
    "accounts:tenant-switch": "switches only between the caller's own memberships",
    "portal:apply": "public partner application form of a tenant, rate-limited",
    "portal:apply-sent": "static confirmation",
    "portal:apply-confirm": "needs the emailed confirmation token",
    "portal:invite-accept": "needs the emailed invitation token",
    "api:token-obtain": "exchanges credentials for a token, throttled",
    "api-schema": "the OpenAPI description, no data",
    "api-docs": "Swagger UI page for the schema, no data",
    "healthz": "liveness probe for the load balancer, no data",
}


def kwarg_model(case: UrlCase, kwarg: str) -> type[models.Model] | None:
    if kwarg in KWARG_MODELS:
        return KWARG_MODELS[kwarg]
    if kwarg == "pk":
        return PAGE_PK_MODELS.get(case.name) or infer_model(case)
    return None


def permission_problem(case: UrlCase) -> str | None:
    """Why ``case``'s view does not declare its permissions, or None when it does."""
    if case.name in PUBLIC_VIEWS:
        return None
    view: Any = case.view_class
    if view is None:
        return "is a function view; make it a class declaring read_perm/write_perm"
    if issubclass(view, APIView):
        classes = view.permission_classes
        # IsTenantMember: any member, about their own rows only (the notification inbox).
        if IsPortalUser in classes or IsTenantMember in classes:
            return None
        if HasRolePermission not in classes:
            return f"{view.__name__} has neither HasRolePermission nor IsPortalUser"
        declared = [getattr(view, a, None) for a in ("read_perm", "write_perm", "action_perms")]
        if not any(declared):
            return f"{view.__name__} declares no read_perm/write_perm/action_perms"
        return None
    if issubclass(view, (PortalRequiredMixin, MemberRequiredMixin)):
        return None
    if issubclass(view, RolePermissionRequiredMixin) and view.read_perm is not None:
        return None
    return f"{view.__name__} is neither RolePermissionRequiredMixin (read_perm) nor portal"


def viewer_may_write(case: UrlCase, method: str) -> bool:
    """Whether a read-only viewer is meant to be able to send ``method`` here: the view's write
    permission is one viewers hold (exports) or it is about the caller's own rows only."""
    view: Any = case.view_class
    if view is None:
        return True
    perm = getattr(view, "write_perm", None)
    actions = case.actions or {}
    action = actions.get(method.lower())
    perm = getattr(view, "action_perms", {}).get(action, perm)
    if perm is None:
        return permission_problem(case) is None and not (
            issubclass(view, RolePermissionRequiredMixin)
            or HasRolePermission in getattr(view, "permission_classes", ())
        )
    return role_has_perm(Role.VIEWER, perm)
