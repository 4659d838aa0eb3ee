"""``{% partner_status_badge partner.status partner.get_status_display %}``: a partner's lifecycle
status as a badge, coloured by status. A tag, not an included template: the partner list shows
one per row."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

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


@register.simple_tag
def partner_status_badge(status: str, label: str) -> SafeString:
    return format_html(
        '<span class="badge rounded-pill fw-normal {}" data-testid="status-badge">{}</span>',
        BADGE.get(status, "text-bg-primary"),
        label,
    )
