"""Pages of finance exports: create (a month and filters), list, progress, download; small exports
as direct downloads; one statement's PDF; the tenant's GL accounts and statement letterhead."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import RolePermissionRequiredMixin
from partnerhub.accounts.roles import Perm
from partnerhub.tenancy.context import require_current_tenant
from partnerhub.tenancy.services import tenant_letterhead_update
from settlements.exports.files import export_file_name
from settlements.exports.filters import statement_export_queryset, statements_for_export
from settlements.exports.pdf import statement_pdf, statement_pdf_name
from settlements.exports.responses import bytes_response, export_file_response
from settlements.forms import ExportForm, JournalSettingsForm, LetterheadForm
from settlements.models import SettlementExport
from settlements.services import exports as services

DEFAULT_SYNC_LIMIT = 200


def sync_limit() -> int:
    """Statements up to which an export may be downloaded directly instead of by a task."""
    return int(getattr(settings, "SETTLEMENT_EXPORT_SYNC_LIMIT", DEFAULT_SYNC_LIMIT))


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class ExportListView(RolePermissionRequiredMixin, View):
    """The tenant's latest exports, newest first (one query)."""

    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        exports = SettlementExport.objects.select_related("partner", "created_by")[:50]
        return render(
            request,
            "settlements/exports/list.html",
            {"exports": exports, "tab": "exports", "area": "settlements"},
        )


class ExportCreateView(RolePermissionRequiredMixin, View):
    """A form for a month's export; ``?month=YYYY-MM`` (from the statements month) fills it in.

    Anyone who may see statements may export them: an export changes nothing.
    """

    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_VIEW

    def _render(self, request: HttpRequest, form: ExportForm, status: int = 200) -> HttpResponse:
        return render(
            request,
            "settlements/exports/create.html",
            {"form": form, "sync_limit": sync_limit(), "tab": "exports", "area": "settlements"},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"month": request.GET.get("month", ""), "kind": request.GET.get("kind", "")}
        return self._render(request, ExportForm(initial={k: v for k, v in initial.items() if v}))

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = ExportForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        data = form.cleaned_data
        if "download_now" in request.POST:
            return _download_now(
                kind=data["kind"],
                file_format=data["file_format"],
                month=data["month"],
                filters=data["filters"],
            ) or self._too_big(request, form)
        export = services.settlement_export_create(
            kind=data["kind"],
            file_format=data["file_format"],
            month=data["month"],
            filters=data["filters"],
            user=_user(request),
        )
        messages.success(request, f"Export of {export.month:%Y-%m} started.")
        return HttpResponseRedirect(reverse("settlements:export-detail", args=[export.pk]))

    def _too_big(self, request: HttpRequest, form: ExportForm) -> HttpResponse:
        form.add_error(
            None,
            f"More than {sync_limit()} statements: start the export instead of downloading it "
            "directly; it runs in the background.",
        )
        return self._render(request, form, status=400)


def _download_now(
    *, kind: str, file_format: str, month: Any, filters: dict[str, Any]
) -> HttpResponse | None:
    """A small export built in the request; None when the month has too many statements."""
    count = statement_export_queryset(month=month, filters=filters).count()
    if count > sync_limit():
        return None
    out = io.BytesIO()
    services.export_build_now(
        kind=kind, file_format=file_format, month=month, filters=filters, out=out
    )
    return bytes_response(
        out.getvalue(),
        file_format=file_format,
        filename=export_file_name(kind=kind, file_format=file_format, month=month),
    )


class ExportDetailView(RolePermissionRequiredMixin, View):
    """An export's progress (polled by htmx while it runs) and its download link when ready."""

    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        export = get_object_or_404(SettlementExport.objects.select_related("partner"), pk=pk)
        template = (
            "settlements/exports/_progress.html"
            if request.headers.get("HX-Request")
            else "settlements/exports/detail.html"
        )
        return render(
            request, template, {"export": export, "tab": "exports", "area": "settlements"}
        )


class ExportDownloadView(RolePermissionRequiredMixin, View):
    """The export's file, for the tenant's users only: another tenant's id is a 404."""

    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return export_file_response(get_object_or_404(SettlementExport.objects.all(), pk=pk))


class StatementPdfView(RolePermissionRequiredMixin, View):
    """One statement as PDF, whatever its status (the finance team reviews drafts too)."""

    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        statements = statements_for_export(ids=[pk], with_lines=True)
        if not statements:
            raise Http404("No such statement.")
        statement = statements[0]
        return bytes_response(
            statement_pdf(statement, tenant=require_current_tenant()),
            file_format="pdf",
            filename=statement_pdf_name(statement),
        )


class JournalSettingsView(RolePermissionRequiredMixin, View):
    """GL accounts of the journal export and the statements' letterhead (finance and admins)."""

    read_perm = Perm.SETTLEMENTS_CHANGE
    write_perm = Perm.SETTLEMENTS_CHANGE

    def _render(
        self,
        request: HttpRequest,
        accounts: JournalSettingsForm,
        letterhead: LetterheadForm,
        status: int = 200,
    ) -> HttpResponse:
        return render(
            request,
            "settlements/exports/settings.html",
            {
                "accounts_form": accounts,
                "letterhead_form": letterhead,
                "tab": "exports",
                "area": "settlements",
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(
            request,
            JournalSettingsForm(instance=services.journal_settings_get()),
            LetterheadForm(instance=require_current_tenant()),
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        accounts = JournalSettingsForm(request.POST, instance=services.journal_settings_get())
        letterhead = LetterheadForm(request.POST, instance=require_current_tenant())
        if not (accounts.is_valid() and letterhead.is_valid()):
            return self._render(request, accounts, letterhead, status=400)
        try:
            services.journal_settings_update(
                user=_user(request),
                **{name: accounts.cleaned_data[name] for name in services.JOURNAL_ACCOUNT_FIELDS},
            )
            tenant_letterhead_update(tenant=require_current_tenant(), **letterhead.cleaned_data)
        except ValidationError as exc:
            accounts.add_error(None, exc)
            return self._render(request, accounts, letterhead, status=400)
        messages.success(request, "Journal accounts and letterhead saved.")
        return HttpResponseRedirect(reverse("settlements:journal-settings"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("exports/", ExportListView.as_view(), name="export-list"),
    path("exports/new/", ExportCreateView.as_view(), name="export-create"),
    path("exports/<int:pk>/", ExportDetailView.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", ExportDownloadView.as_view(), name="export-download"),
    path("statements/<int:pk>/pdf/", StatementPdfView.as_view(), name="statement-pdf"),
    path("journal-settings/", JournalSettingsView.as_view(), name="journal-settings"),
]
