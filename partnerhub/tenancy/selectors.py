from __future__ import annotations

from django.http import HttpRequest

from partnerhub.tenancy.models import Membership


def memberships_of_user(user_id: int) -> list[Membership]:
    """All of a user's memberships, across tenants (RLS shows only the user's own rows)."""
    return list(
        Membership.across_tenants.filter(user_id=user_id, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def membership_for_request(request: HttpRequest, session_key: str) -> Membership | None:
    """The membership for the tenant chosen in the session, else the user's first one."""
    memberships = memberships_of_user(int(request.user.pk or 0))
    if not memberships:
        return None
    wanted = request.session.get(session_key)
    chosen = next((m for m in memberships if m.tenant_id == wanted), memberships[0])
    request.user_memberships = memberships  # type: ignore[attr-defined]
    return chosen
