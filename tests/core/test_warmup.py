"""A web worker compiles the templates and imports the URLconf and broker transport at start."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.conf import settings

from partnerhub.core.warmup import warm_up


@pytest.mark.django_db
def test_warm_up_compiles_every_project_template_without_queries(django_assert_num_queries):
    templates = list(Path(settings.BASE_DIR, "templates").rglob("*.html"))
    with django_assert_num_queries(0):
        assert warm_up() == len(templates) > 100
    assert "kombu.transport.redis" in sys.modules


def test_the_wsgi_module_warms_up_then_freezes_what_it_loaded(monkeypatch):
    calls = []
    monkeypatch.setattr("partnerhub.core.warmup.warm_up", lambda: calls.append("warm") or 0)
    monkeypatch.setattr("gc.freeze", lambda: calls.append("freeze"))
    monkeypatch.delitem(sys.modules, "partnerhub.wsgi", raising=False)
    import partnerhub.wsgi  # noqa: F401

    assert calls == ["warm", "freeze"]
