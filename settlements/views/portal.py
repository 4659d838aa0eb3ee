"""Portal pages (/portal/statements/): a partner's own approved, disputed and paid statements
(never drafts, never another partner's: both answer 404), the usage behind a line, disputes,
and the downloads of a statement (PDF, CSV of its lines) and of exports made for the partner."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View

from partnerhub.tenancy.context import require_current_tenant
from partners.access import PortalRequiredMixin
from partners.exports import TableWriter
from settlements.exports.filters import statements_for_export
from settlements.exports.pdf import statement_pdf, statement_pdf_name
from settlements.exports.responses import bytes_response, export_file_response
from settlements.exports.tables import LINE_COLUMNS, line_rows
from settlements.forms import StatementDisputeForm
from settlements.models import SettlementExport, Statement, StatementDispute, StatementLine
from settlements.selectors.statements import portal_statement_list
from settlements.services.statements import statement_dispute_open
from settlements.views.statements import line_usage_page


class _PortalStatementMixin(PortalRequiredMixin):
    def statement(self, pk: int) -> Statement:
        return get_object_or_404(portal_statement_list(partner=self.partner), pk=pk)


class PortalStatementListView(_PortalStatementMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        context = {
            "partner": self.partner,
            "section": "statements",
            "statements": list(portal_statement_list(partner=self.partner)[:120]),
        }
        return render(request, "settlements/portal/statements.html", context)


class PortalStatementDetailView(_PortalStatementMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, self.statement(pk), StatementDisputeForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Raise a dispute on the statement or one of its lines."""
        statement = self.statement(pk)
        form = StatementDisputeForm(request.POST, request.FILES)
        form.set_lines(statement.lines.all())
        if form.is_valid():
            line_pk = form.cleaned_data["line"]
            line = (
                get_object_or_404(StatementLine.objects.filter(statement=statement), pk=line_pk)
                if line_pk
                else None
            )
            try:
                link = statement_dispute_open(
                    statement=statement,
                    user=request.user,  # type: ignore[arg-type]
                    comment=form.cleaned_data["comment"],
                    by_partner=True,
                    line=line,
                    upload=form.cleaned_data.get("attachment"),
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, "Your dispute was sent; we will get back to you.")
                return HttpResponseRedirect(
                    reverse("portal:dispute-detail", args=[link.dispute_id])
                )
        return self._render(request, statement, form, status=400)

    def _render(
        self,
        request: HttpRequest,
        statement: Statement,
        form: StatementDisputeForm,
        status: int = 200,
    ) -> HttpResponse:
        statement = (
            Statement.objects.filter(pk=statement.pk)
            .prefetch_related(
                Prefetch("lines", queryset=StatementLine.objects.order_by("position")),
                Prefetch(
                    "disputes",
                    queryset=StatementDispute.objects.select_related("dispute", "line"),
                ),
            )
            .get()
        )
        lines = list(statement.lines.all())
        form.set_lines(lines)
        context: dict[str, Any] = {
            "partner": self.partner,
            "section": "statements",
            "statement": statement,
            "lines": lines,
            "disputes": list(statement.disputes.all()),
            "form": form,
        }
        return render(request, "settlements/portal/statement_detail.html", context, status=status)


class PortalLineUsageView(_PortalStatementMixin, View):
    def get(self, request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
        statement = self.statement(pk)
        context = {
            **line_usage_page(request, statement, line_pk),
            "partner": self.partner,
            "section": "statements",
            "back": reverse("settlements_portal:statement-detail", args=[pk]),
            "base": "partners/portal/base_portal.html",
        }
        return render(request, "settlements/statements/line_usage.html", context)


# --- downloads ---------------------------------------------------------------------------------


class _PortalStatementView(_PortalStatementMixin, View):
    def statement(self, pk: int) -> Statement:
        """The visible statement (as the portal pages find it), loaded the way exports read it."""
        return statements_for_export(ids=[super().statement(pk).pk], with_lines=True)[0]


class PortalStatementPdfView(_PortalStatementView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        statement = self.statement(pk)
        return bytes_response(
            statement_pdf(statement, tenant=require_current_tenant()),
            file_format="pdf",
            filename=statement_pdf_name(statement),
        )


class PortalStatementCsvView(_PortalStatementView):
    """The statement's lines under the documented statement-lines columns."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        statement = self.statement(pk)
        out = io.BytesIO()
        writer = TableWriter(out, columns=LINE_COLUMNS, file_format="csv")
        writer.write(line_rows([statement]))
        writer.close()
        return bytes_response(
            out.getvalue(),
            file_format="csv",
            filename=statement_pdf_name(statement).removesuffix(".pdf") + ".csv",
        )


class PortalExportDownloadView(PortalRequiredMixin, View):
    """An export made for this partner; any other export id is a 404."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return export_file_response(
            get_object_or_404(SettlementExport.objects.filter(partner=self.partner), pk=pk)
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/statements/", PortalStatementListView.as_view(), name="statement-list"),
    path(
        "portal/statements/<int:pk>/",
        PortalStatementDetailView.as_view(),
        name="statement-detail",
    ),
    path(
        "portal/statements/<int:pk>/lines/<int:line_pk>/usage/",
        PortalLineUsageView.as_view(),
        name="statement-line-usage",
    ),
    path(
        "portal/statements/<int:pk>/pdf/",
        PortalStatementPdfView.as_view(),
        name="statement-pdf",
    ),
    path(
        "portal/statements/<int:pk>/csv/",
        PortalStatementCsvView.as_view(),
        name="statement-csv",
    ),
    path(
        "portal/exports/<int:pk>/download/",
        PortalExportDownloadView.as_view(),
        name="export-download",
    ),
]
