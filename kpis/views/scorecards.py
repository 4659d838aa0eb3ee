"""Pages: the portfolio heat-map (and its export), a partner's KPI page, compared charts."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.generic import TemplateView, View

from kpis.models import KpiDefinition
from kpis.periods import Period, tenant_today
from kpis.selectors.alerts import OPEN_STATUSES, drift_alert_list
from kpis.selectors.scorecards import kpi_portfolio, kpi_portfolio_page, kpi_scorecard
from kpis.selectors.series import chart_payload, default_range, kpi_series
from partnerhub.accounts.permissions import RolePermissionRequiredMixin
from partnerhub.accounts.roles import Perm
from partners.exports import export_rows
from partners.models import Partner, PartnerTier, PartnerType

MAX_COMPARED = 8


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The ?period= asked for (YYYY-MM or YYYY-Qn), else this month; and an error to show."""
    raw = request.GET.get("period", "").strip()
    if raw:
        try:
            return Period.parse(raw), ""
        except ValidationError as exc:
            return Period.containing(tenant_today()), " ".join(exc.messages)
    return Period.containing(tenant_today()), ""


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _range(request: HttpRequest) -> tuple[date, date]:
    start, end = default_range(tenant_today())
    try:
        if request.GET.get("start"):
            start = date.fromisoformat(request.GET["start"])
        if request.GET.get("end"):
            end = min(date.fromisoformat(request.GET["end"]), end)
    except ValueError:
        pass
    return start, end


def period_choices(current: Period, count: int = 12) -> list[Period]:
    periods, period = [], Period.containing(tenant_today(), current.kind)
    for _ in range(count):
        periods.append(period)
        period = period.previous()
    return periods


class PortfolioView(RolePermissionRequiredMixin, TemplateView):
    """All active partners x KPIs for a period as a heat-map, sortable, filterable, exportable."""

    template_name = "kpis/portfolio.html"
    read_perm = Perm.KPIS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        period, error = _period(self.request)
        sort = self.request.GET.get("sort", "name")
        descending = self.request.GET.get("dir") == "desc"
        partner_type, tier = _int(self.request.GET.get("type")), _int(self.request.GET.get("tier"))
        definitions, page = kpi_portfolio_page(
            period=period,
            page=self.request.GET.get("page"),
            partner_type=partner_type,
            tier=tier,
            sort=sort,
            descending=descending,
        )
        rows = [(card, [card.line(d.key) for d in definitions]) for card in page.object_list]
        context.update(
            period=period,
            period_error=error,
            periods=period_choices(period),
            quarters=period_choices(Period.containing(tenant_today(), "quarter"), 4),
            definitions=definitions,
            rows=rows,
            page_obj=page,
            sort=sort,
            descending=descending,
            types=PartnerType.objects.order_by("name"),
            tiers=PartnerTier.objects.all(),
            selected_type=partner_type,
            selected_tier=tier,
            query=self.request.GET.urlencode(),
        )
        return context


class PortfolioExportView(RolePermissionRequiredMixin, View):
    """The heat-map as CSV or XLSX: one row per partner, attainment % and status per KPI."""

    read_perm = Perm.KPIS_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        period, _ = _period(request)
        file_format = request.GET.get("format", "csv")
        if file_format not in ("csv", "xlsx"):
            raise Http404("Unknown export format.")
        definitions, cards = kpi_portfolio(
            period=period,
            partner_type=_int(request.GET.get("type")),
            tier=_int(request.GET.get("tier")),
        )
        columns = ["Partner", "Type", "Tier", "Score %", "Status"]
        for d in definitions:
            columns += [f"{d.name} actual", f"{d.name} target", f"{d.name} attainment %"]
        rows = []
        for card in cards:
            row: list[Any] = [
                card.partner.legal_name,
                card.partner.partner_type.name,
                card.partner.tier.name if card.partner.tier else "",
                card.score,
                card.status,
            ]
            for line in card.lines:
                row += [line.actual, line.target, line.attainment]
            rows.append(row)
        return export_rows(
            rows=rows,
            columns=columns,
            file_format=file_format,
            filename=f"kpi-portfolio-{period.label}",
        )


class PartnerKpiView(RolePermissionRequiredMixin, TemplateView):
    """One partner's scorecard for a period and a KPI's daily chart with target and alerts."""

    template_name = "kpis/partner.html"
    read_perm = Perm.KPIS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        partner = get_object_or_404(
            Partner.objects.select_related("partner_type", "tier"), pk=kwargs["pk"]
        )
        period, error = _period(self.request)
        card = kpi_scorecard(partner=partner, period=period)
        context.update(chart_context(self.request, card.lines, [partner]))
        context.update(
            partner=partner,
            card=card,
            period=period,
            period_error=error,
            periods=period_choices(period),
        )
        return context


class PartnerKpiSummaryView(RolePermissionRequiredMixin, TemplateView):
    """The partner page's KPI card (an htmx fragment): this month's scorecard and open alerts."""

    template_name = "kpis/_partner_summary.html"
    read_perm = Perm.KPIS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        partner = get_object_or_404(Partner.objects.all(), pk=kwargs["pk"])
        period = Period.containing(tenant_today())
        context.update(
            partner=partner,
            period=period,
            card=kpi_scorecard(partner=partner, period=period),
            alerts=list(
                drift_alert_list(partner=partner).filter(status__in=OPEN_STATUSES)[:ALERTS_SHOWN]
            ),
        )
        return context


ALERTS_SHOWN = 5


def chart_context(
    request: HttpRequest, lines: list[Any], partners: list[Partner]
) -> dict[str, Any]:
    """The KPI chosen with ?kpi= (else the first with values) and its chart data."""
    definitions = [line.kpi for line in lines]
    wanted = request.GET.get("kpi", "")
    kpi = next((d for d in definitions if d.key == wanted), None)
    if kpi is None:
        kpi = next((line.kpi for line in lines if line.actual is not None), None) or (
            definitions[0] if definitions else None
        )
    if kpi is None:
        return {"chart": None, "chart_kpi": None, "chart_definitions": definitions}
    start, end = _range(request)
    series, alerts = kpi_series(kpi=kpi, partners=partners, start=start, end=end)
    return {
        "chart": chart_payload(kpi=kpi, series=series, alerts=alerts, start=start, end=end),
        "chart_kpi": kpi,
        "chart_alerts": alerts,
        "chart_definitions": definitions,
        "chart_start": start,
        "chart_end": end,
    }


class CompareView(RolePermissionRequiredMixin, TemplateView):
    """A KPI's daily series for several partners on one chart (?kpi=revenue&partner=1&partner=2)."""

    template_name = "kpis/compare.html"
    read_perm = Perm.KPIS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        definitions = list(
            KpiDefinition.objects.filter(is_active=True)
            .select_related("numerator", "denominator")
            .order_by("name")
        )
        ids = [int(x) for x in self.request.GET.getlist("partner") if x.isdigit()][:MAX_COMPARED]
        chosen = list(Partner.objects.filter(pk__in=ids).order_by("legal_name"))
        kpi = next((d for d in definitions if d.key == self.request.GET.get("kpi")), None)
        kpi = kpi or next((d for d in definitions if d.key == "revenue"), None)
        context.update(
            definitions=definitions,
            all_partners=Partner.objects.filter(status="active").order_by("legal_name"),
            chosen_ids=[p.pk for p in chosen],
            chart_kpi=kpi,
            chart=None,
            max_compared=MAX_COMPARED,
        )
        if kpi is not None and chosen:
            start, end = _range(self.request)
            series, alerts = kpi_series(kpi=kpi, partners=chosen, start=start, end=end)
            context["chart"] = chart_payload(
                kpi=kpi, series=series, alerts=alerts, start=start, end=end
            )
            context["chart_alerts"] = alerts
        return context


urlpatterns = [
    path("", PortfolioView.as_view(), name="portfolio"),
    path("portfolio/export/", PortfolioExportView.as_view(), name="portfolio-export"),
    path("partners/<int:pk>/", PartnerKpiView.as_view(), name="partner"),
    path("partners/<int:pk>/summary/", PartnerKpiSummaryView.as_view(), name="partner-summary"),
    path("compare/", CompareView.as_view(), name="compare"),
]
