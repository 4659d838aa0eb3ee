"""Demo data: portal users of two demo partners (after the registry, onboarding and
relationship demos). Idempotent: a second run changes nothing."""

from __future__ import annotations

from django.db.models import Q

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.demo import DEMO_PASSWORD
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import membership_set
from partners.models import Partner, PartnerUser

# (email, full name, the partner's name); the partners come from the registry demo.
PORTAL_USERS = [
    ("partner@demo.test", "Paula Partner", "StreamWave Media"),
    ("applicant@demo.test", "Arne Applicant", "NordTower Infrastructure"),
]


def load(tenant: Tenant) -> None:
    """Idempotent: a second run changes nothing."""
    if tenant.slug != "demo":
        return
    for email, full_name, partner_name in PORTAL_USERS:
        partner = Partner.objects.filter(
            Q(legal_name__istartswith=partner_name) | Q(trading_name__iexact=partner_name)
        ).first()
        if partner is None:  # the registry demo did not create it
            continue
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
        membership_set(tenant=tenant, user=user, role=Role.PARTNER)
        if not PartnerUser.objects.filter(user=user).exists():
            link = PartnerUser(user=user, partner=partner)
            link.full_clean(exclude=["tenant"])
            link.save()
