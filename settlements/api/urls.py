"""The settlements API, mounted under /api/v1/ (paths start with ``settlements/``)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.urls import URLPattern, URLResolver

from settlements.api import usage

urlpatterns: list[URLPattern | URLResolver] = [*usage.urlpatterns]
# The engine's endpoints (plans, runs, statements) join once settlements/api/engine.py exists.
if find_spec("settlements.api.engine") is not None:
    urlpatterns += import_module("settlements.api.engine").urlpatterns
