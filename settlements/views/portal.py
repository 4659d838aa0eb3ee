"""Portal downloads of a partner's own statements (PDF, CSV of its lines) and exports.

Mounted in the portal namespace (partners/portal_urls.py). Only the signed-in partner's
approved, paid or disputed statements are found: a draft, another partner's or another
tenant's statement answers 404, like one that does not exist.
"""

from __future__ import annotations

import io

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver, path
from django.views import View

from partnerhub.tenancy.context import require_current_tenant
from partners.access import PortalRequiredMixin
from partners.exports import TableWriter
from settlements.exports.filters import PARTNER_VISIBLE_STATUSES, statements_for_export
from settlements.exports.pdf import statement_pdf, statement_pdf_name
from settlements.exports.responses import bytes_response, export_file_response
from settlements.exports.tables import LINE_COLUMNS, line_rows
from settlements.models import SettlementExport, Statement


class _PortalStatementView(PortalRequiredMixin, View):
    def statement(self, pk: int) -> Statement:
        visible = Statement.objects.filter(
            partner=self.partner, status__in=PARTNER_VISIBLE_STATUSES
        )
        found = get_object_or_404(visible.only("pk"), pk=pk)
        return statements_for_export(ids=[found.pk], with_lines=True)[0]


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


portal_urlpatterns: list[URLPattern | URLResolver] = [
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
