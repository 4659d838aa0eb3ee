"""The settlements API, mounted under /api/v1/ (paths start with ``settlements/``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from settlements.api import engine, exports, reconciliation, statements, usage

urlpatterns: list[URLPattern | URLResolver] = [
    *usage.urlpatterns,
    *engine.urlpatterns,
    *exports.urlpatterns,
    *statements.urlpatterns,
    *reconciliation.urlpatterns,
]
