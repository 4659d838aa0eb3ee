"""``{{ partner.status|status_badge }}``: the badge colour of a partner's lifecycle status."""

from __future__ import annotations

from django import template

from partners.models import PartnerStatus

register = template.Library()

BADGE: dict[str, str] = {
    PartnerStatus.ACTIVE: "text-bg-success",
    PartnerStatus.REJECTED: "text-bg-danger",
    PartnerStatus.EXITED: "text-bg-danger",
    PartnerStatus.SUSPENDED: "text-bg-warning",
    PartnerStatus.OFFBOARDING: "text-bg-warning",
    PartnerStatus.APPLIED: "text-bg-secondary",
}


@register.filter
def status_badge(status: str) -> str:
    return BADGE.get(status, "text-bg-primary")
