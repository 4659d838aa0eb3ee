"""The settlements API, mounted under /api/v1/ (paths start with ``settlements/``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from settlements.api import engine, reconciliation, usage

urlpatterns: list[URLPattern | URLResolver] = [
    *usage.urlpatterns,
    *engine.urlpatterns,
    *reconciliation.urlpatterns,
]
