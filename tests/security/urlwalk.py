"""Every URL of the project, found by walking Django's resolver, and what each one needs.

The isolation matrix is generated from this list, so a page or endpoint added later is covered
without anyone listing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

_KWARG = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")


@dataclass(frozen=True)
class UrlCase:
    """One URL pattern: its route template, name and view."""

    route: str
    name: str
    callback: Any
    view_class: type | None
    actions: dict[str, str] | None
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("/api/")

    @property
    def is_portal(self) -> bool:
        namespace = self.name.split(":")[0]
        return namespace.endswith("portal") or self.name.startswith("api:portal-")

    def methods(self) -> list[str]:
        """The HTTP methods the view answers (besides HEAD/OPTIONS)."""
        if self.actions is not None:
            return sorted(m.upper() for m in self.actions)
        view = self.view_class
        if view is None:
            return ["GET", "POST"]
        names = ("get", "post", "put", "patch", "delete")
        return [m.upper() for m in names if hasattr(view, m)]

    def fill(self, values: dict[str, str]) -> str:
        def sub(match: re.Match[str]) -> str:
            return str(values[match.group("name") or match.group("rname")])

        path = _KWARG.sub(sub, self.route)
        return path.replace("^", "").replace("$", "").replace("\\", "")


def _view_class(callback: Any) -> type | None:
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def _walk(resolver: URLResolver, prefix: str, namespaces: tuple[str, ...]):  # type: ignore[no-untyped-def]
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield route, ":".join((*namespaces, pattern.name or "")), pattern.callback


# The Django admin is for platform staff (``is_staff``), not a tenant role: it has its own
# permission system and is checked by Django's own tests.
EXCLUDED_PREFIXES = ("admin/",)


def walk_urls() -> list[UrlCase]:
    """Every URL pattern once (format-suffix twins of API routes dropped)."""
    cases: dict[tuple[str, str], UrlCase] = {}
    for route, name, callback in _walk(get_resolver(), "", ()):
        if route.startswith(EXCLUDED_PREFIXES) or "format" in route:
            continue
        kwargs = tuple(m.group("name") or m.group("rname") for m in _KWARG.finditer(route))
        case = UrlCase(
            route="/" + route,
            name=name,
            callback=callback,
            view_class=_view_class(callback),
            actions=getattr(callback, "actions", None),
            kwargs=kwargs,
        )
        cases.setdefault((case.fill({k: "x" for k in kwargs}), name), case)
    return list(cases.values())


def infer_model(case: UrlCase) -> type[models.Model] | None:
    """The model a view's ``pk`` refers to: its queryset's, ``model`` or serializer's."""
    view = case.view_class
    if view is None:
        return None
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model
    model = getattr(view, "model", None)
    if model is not None:
        return model
    serializer = getattr(view, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)
