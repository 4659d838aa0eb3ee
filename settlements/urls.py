"""Settlement pages, mounted at /settlements/ (namespace ``settlements``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from settlements.views import engine, finance, usage

app_name = "settlements"

urlpatterns: list[URLPattern | URLResolver] = [
    *usage.urlpatterns,
    *engine.urlpatterns,
    *finance.urlpatterns,
]
