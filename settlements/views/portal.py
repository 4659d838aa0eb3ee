"""Portal pages (/portal/statements/): a partner's own approved, disputed and paid statements
(never drafts, never another partner's: both answer 404), the usage behind a line, disputes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View

from partners.access import PortalRequiredMixin
from settlements.forms import StatementDisputeForm
from settlements.models import Statement, StatementDispute, StatementLine
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
]
