"""KPI API, mounted under /api/v1/ (paths start with "kpis/"); each area owns its routes."""

from django.urls import include, path

from kpis.api import definitions, measurements, scorecards, targets

urlpatterns = [
    *measurements.urlpatterns,
    *definitions.urlpatterns,
    *targets.urlpatterns,
    *scorecards.urlpatterns,
    path("", include("kpis.api.alerts")),
]
