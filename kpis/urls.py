"""KPI pages under /kpis/ (namespace "kpis"); each area module owns its urlpatterns."""

from django.urls import URLPattern, URLResolver

from kpis.views import alerts, definitions, measurements, scorecards

app_name = "kpis"

urlpatterns: list[URLPattern | URLResolver] = [
    *scorecards.urlpatterns,
    *definitions.urlpatterns,
    *measurements.urlpatterns,
    *alerts.urlpatterns,
]
