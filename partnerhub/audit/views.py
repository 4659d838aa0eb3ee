from __future__ import annotations

from typing import Any

from django.views.generic import ListView

from partnerhub.accounts.permissions import RolePermissionRequiredMixin
from partnerhub.accounts.roles import Perm
from partnerhub.audit.filters import AuditEntryFilter
from partnerhub.audit.selectors import audit_entry_list


class AuditEntryListView(RolePermissionRequiredMixin, ListView):
    """The tenant's audit trail, filterable by object, actor, action and time."""

    template_name = "audit/list.html"
    read_perm = Perm.AUDIT_VIEW
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.filterset = AuditEntryFilter(self.request.GET, queryset=audit_entry_list())
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context
