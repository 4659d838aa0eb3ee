"""Portal pages (/portal/kpis/): a partner's own scorecard, charts and self-reported values."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View

from kpis.forms import PortalReportForm
from kpis.models import KpiMeasurement
from kpis.periods import tenant_today
from kpis.selectors.scorecards import kpi_scorecard
from kpis.services.measurements import MeasurementRowsInvalid, kpi_measurements_ingest
from kpis.views.scorecards import _period, chart_context, period_choices
from partners.access import PortalRequiredMixin


class PortalKpiView(PortalRequiredMixin, View):
    template_name = "kpis/portal.html"

    def _render(
        self, request: HttpRequest, form: PortalReportForm, status: int = 200
    ) -> HttpResponse:
        period, error = _period(request)
        card = kpi_scorecard(partner=self.partner, period=period)
        context: dict[str, Any] = {
            "partner": self.partner,
            "card": card,
            "period": period,
            "period_error": error,
            "periods": period_choices(period),
            "form": form,
            "today": tenant_today(),
        }
        context.update(chart_context(request, card.lines, [self.partner]))
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        # An <input type=date> reads ISO dates only; the KPI charted is preselected.
        initial: dict[str, Any] = {"date": tenant_today().isoformat()}
        form = PortalReportForm(initial=initial)
        chosen = form.fields["kpi"].queryset.filter(key=request.GET.get("kpi", "")).first()  # type: ignore[attr-defined]
        if chosen is not None:
            form.initial["kpi"] = chosen.pk
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = PortalReportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                kpi_measurements_ingest(
                    rows=[
                        {
                            "kpi": data["kpi"].key,
                            "date": data["date"].isoformat(),
                            "value": str(data["value"]),
                        }
                    ],
                    origin=KpiMeasurement.Origin.PORTAL,
                    user=request.user,  # type: ignore[arg-type]
                    partner=self.partner,
                )
            except MeasurementRowsInvalid as exc:
                for error in exc.rows:
                    column = error["column"] if error["column"] in form.fields else None
                    form.add_error(column, error["message"])
            else:
                messages.success(
                    request, f"Thank you: {data['kpi'].name} for {data['date']} recorded."
                )
                return redirect(f"{request.path}?kpi={data['kpi'].key}")
        return self._render(request, form, status=400)


urlpatterns = [path("portal/kpis/", PortalKpiView.as_view(), name="scorecard")]
