"""Partners: registry, onboarding, agreements, relationship, portal."""

from partners.models.agreements import Agreement, AgreementStatus, AgreementType, AgreementVersion
from partners.models.onboarding import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    RiskAssessment,
    StatusTransition,
)
from partners.models.portal import Application, Invitation, PartnerUser
from partners.models.registry import (
    BankDetails,
    ChangeRequest,
    Contact,
    Document,
    DocumentType,
    Partner,
    PartnerStatus,
    PartnerTag,
    PartnerTier,
    PartnerType,
    ProgramSettings,
    RiskLevel,
    Tag,
)
from partners.models.relationship import (
    Dispute,
    DisputeComment,
    DisputeStatus,
    Interaction,
    Notification,
)

__all__ = [
    "Agreement",
    "AgreementStatus",
    "AgreementType",
    "AgreementVersion",
    "Application",
    "BankDetails",
    "ChangeRequest",
    "ChecklistKind",
    "ChecklistStep",
    "ChecklistTemplateItem",
    "Contact",
    "Dispute",
    "DisputeComment",
    "DisputeStatus",
    "Document",
    "DocumentType",
    "Interaction",
    "Invitation",
    "Notification",
    "Partner",
    "PartnerStatus",
    "PartnerTag",
    "PartnerTier",
    "PartnerType",
    "PartnerUser",
    "ProgramSettings",
    "RiskAssessment",
    "RiskLevel",
    "StatusTransition",
    "Tag",
]
