"""Role checks for API views and pages, both reading ``roles.ROLE_PERMISSIONS``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from rest_framework.permissions import SAFE_METHODS, BasePermission

from partnerhub.accounts.roles import Perm, role_has_perm

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def request_role(request: HttpRequest | Request) -> str | None:
    membership = getattr(request, "membership", None)
    return membership.role if membership is not None else None


def required_perm(view: Any, method: str) -> Perm | None:
    """The permission a view declares for this request.

    Views declare ``read_perm`` and ``write_perm``; viewset actions may override with
    ``action_perms = {"approve": Perm.X}``. Undeclared means no access.
    """
    action = getattr(view, "action", None)
    action_perms = getattr(view, "action_perms", {})
    if action in action_perms:
        return action_perms[action]
    if method in SAFE_METHODS:
        return getattr(view, "read_perm", None)
    return getattr(view, "write_perm", None)


class HasRolePermission(BasePermission):
    """Authenticated, member of the active tenant, and role grants the view's permission."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if getattr(request, "tenant", None) is None:
            return False
        perm = required_perm(view, request.method or "GET")
        if perm is None:
            if not hasattr(view, "read_perm") and not hasattr(view, "action_perms"):
                raise ImproperlyConfigured(f"{type(view).__name__} declares no permission.")
            return False
        return role_has_perm(request_role(request), perm)


class RolePermissionRequiredMixin(AccessMixin):
    """Pages: ``read_perm`` for GET/HEAD, ``write_perm`` for the rest; login first."""

    read_perm: Perm | None = None
    write_perm: Perm | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.read_perm is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no read_perm.")
        perm = self.read_perm if request.method in ("GET", "HEAD") else self.write_perm
        if getattr(request, "tenant", None) is None or perm is None:
            return self.handle_no_permission()
        if not role_has_perm(request_role(request), perm):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
