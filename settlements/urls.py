"""Settlement pages, mounted at /settlements/ (namespace ``settlements``)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.urls import URLPattern, URLResolver

from settlements.views import usage

app_name = "settlements"

urlpatterns: list[URLPattern | URLResolver] = [*usage.urlpatterns]
# The engine's pages (plans, runs, statements) join once settlements/views/engine.py exists.
if find_spec("settlements.views.engine") is not None:
    urlpatterns += import_module("settlements.views.engine").urlpatterns
