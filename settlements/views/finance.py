"""Pages for finance: a month's reconciliation (with its CSV/XLSX export) and the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path
from django.views import View

from kpis.periods import Period, tenant_today
from partnerhub.accounts.permissions import RolePermissionRequiredMixin
from partnerhub.accounts.roles import Perm
from partners.exports import FILE_FORMATS, export_rows
from settlements.engine import round_money
from settlements.selectors.finance import finance_dashboard
from settlements.selectors.reconciliation import REASONS, Reconciliation, settlement_reconciliation
from settlements.services.statements_build import add_months

_NO_GROUP: tuple[None, None, None] = (None, None, None)
RECONCILIATION_COLUMNS = (
    "section",
    "currency",
    "measure",
    "amount",
    "records",
    "partner_id",
    "partner",
    "product_code",
)


def reconciliation_month(raw: str | None) -> date:
    """``?month=YYYY-MM`` (default: last month); a clear error for anything else."""
    if not raw:
        return add_months(tenant_today().replace(day=1), -1)
    period = Period.parse(raw)
    if period.kind != "month":
        raise ValidationError({"month": f"{raw!r} is not a month: use YYYY-MM (2026-10)."})
    return period.start


def _amount(value: Decimal | int, currency: str) -> Decimal | int:
    """At the currency's minor units when that is exact (an export reads 125.00, not
    125.000000); a value with more decimals (a difference to investigate) stays whole."""
    if isinstance(value, int):
        return value
    try:
        rounded = round_money(value, currency)
    except ValueError:
        return value
    return rounded if rounded == value else value


def reconciliation_rows(rec: Reconciliation) -> Iterator[tuple[Any, ...]]:
    """The reconciliation as one flat table (stable columns, amounts as numbers)."""
    for u in rec.usage:
        for measure, amount, records in (
            ("usage_gross", u.gross, u.record_count),
            ("usage_tax", u.tax, None),
            ("usage_basis", u.basis, u.record_count),
            ("settled_basis", u.settled, None),
            *((f"unsettled_{reason}", amount, None) for reason, amount in u.unsettled.items()),
            ("late_settled_later", u.late_settled, None),
            ("late_awaiting_settlement", u.late_pending, None),
            ("not_yet_run", u.not_run, None),
            ("difference", u.difference, None),
        ):
            yield ("usage", u.currency, measure, _amount(amount, u.currency), records, *_NO_GROUP)
        for target, amount in u.converted.items():
            # Exact conversion (unrounded): the rounding happens once per statement line.
            yield ("usage", u.currency, f"converted_to_{target}", amount, None, *_NO_GROUP)
        for target, amount in u.not_converted.items():
            yield (
                (
                    "usage",
                    u.currency,
                    f"no_rate_to_{target}",
                    _amount(amount, u.currency),
                    None,
                    *_NO_GROUP,
                )
            )
    for s in rec.statements:
        figures: tuple[tuple[str, Decimal | int], ...] = (
            ("statements", s.statements),
            ("drafts", s.drafts),
            ("basis_total", s.basis_total),
            ("partner_share_payable", s.partner_share_payable),
            ("partner_share_receivable", s.partner_share_receivable),
            ("csp_share", s.csp_share),
            ("adjustments", s.adjustments),
            ("late_usage_basis", s.late_usage_basis),
            ("late_usage_amount", s.late_usage_amount),
            ("basis_difference", s.basis_difference),
            ("share_difference", s.share_difference),
        )
        for measure, figure in figures:
            yield ("statements", s.currency, measure, _amount(figure, s.currency), None, *_NO_GROUP)
    for g in rec.unsettled:
        yield (
            "unsettled_late" if g.late else "unsettled",
            g.currency,
            g.reason,
            _amount(g.basis, g.currency),
            g.record_count,
            g.partner_id,
            g.partner_name,
            g.product_code,
        )


class ReconciliationView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest) -> HttpResponseBase:
        file_format = request.GET.get("file_format")
        if file_format is not None and file_format not in FILE_FORMATS:
            return HttpResponse("Unknown export format: use csv or xlsx.", status=400)
        try:
            month = reconciliation_month(request.GET.get("month"))
        except ValidationError as exc:
            if file_format:
                return HttpResponse(" ".join(exc.messages), status=400)
            return render(
                request,
                "settlements/finance/reconciliation.html",
                {"error": " ".join(exc.messages), "tab": "reconciliation", "area": "settlements"},
                status=400,
            )
        rec = settlement_reconciliation(month=month)
        if file_format:
            return export_rows(
                rows=reconciliation_rows(rec),
                columns=RECONCILIATION_COLUMNS,
                file_format=file_format,
                filename=f"reconciliation-{month:%Y-%m}",
            )
        return render(
            request,
            "settlements/finance/reconciliation.html",
            {
                "rec": rec,
                "month_value": f"{month:%Y-%m}",
                "reasons": REASONS,
                "tab": "reconciliation",
                "area": "settlements",
            },
        )


class FinanceDashboardView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "settlements/finance/dashboard.html",
            {"d": finance_dashboard(), "tab": "finance", "area": "settlements"},
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("reconciliation/", ReconciliationView.as_view(), name="reconciliation"),
    path("finance/", FinanceDashboardView.as_view(), name="finance-dashboard"),
]
