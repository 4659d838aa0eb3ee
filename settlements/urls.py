"""Settlement pages, mounted at /settlements/ (namespace ``settlements``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from settlements.views import engine, exports, finance, statements, usage

app_name = "settlements"

urlpatterns: list[URLPattern | URLResolver] = [
    *usage.urlpatterns,
    *engine.urlpatterns,
    *exports.urlpatterns,
    *statements.urlpatterns,
    *finance.urlpatterns,
]
