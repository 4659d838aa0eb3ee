"""Every operation of the partners API shows an example in the OpenAPI schema, and response
examples use the fields of the documented schema."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator

API_PREFIX = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _is_partners_view(path: str) -> bool:
    """Whether the path is served by a view of the partners app (partners/api/*.py): the
    resolver decides, so new routes are checked without a list of prefixes to maintain."""
    try:
        match = resolve(re.sub(r"\{[^}]+\}", "1", path))
    except Resolver404:
        return False
    view = getattr(match.func, "cls", match.func)
    return view.__module__.startswith("partners.api.")


def _partners_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        if path.startswith(API_PREFIX) and _is_partners_view(path)
        for method, operation in operations.items()
        if method in METHODS
    ]


def _contents(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(status code or "request", media type object) for the body and every response."""
    found = [("request", c) for c in operation.get("requestBody", {}).get("content", {}).values()]
    for code, response in operation.get("responses", {}).items():
        found += [(code, c) for c in response.get("content", {}).values()]
    return found


def test_the_partners_app_is_in_the_schema(schema: dict[str, Any]) -> None:
    paths = {path for _, path, _ in _partners_operations(schema)}
    prefixes = {path[len(API_PREFIX) :].split("/")[0] for path in paths}
    assert {
        "partners",
        "partner-types",
        "partner-tiers",
        "tags",
        "change-requests",
        "onboarding",
        "agreements",
        "disputes",
        "notifications",
        "quiet-partners",
        "dashboard",
        "programme-settings",
        "portal",
    } <= prefixes
    assert "/api/v1/kpis/definitions/" not in paths


def test_every_partners_operation_has_an_example(schema: dict[str, Any]) -> None:
    missing = [
        f"{method} {path} ({operation['operationId']})"
        for method, path, operation in _partners_operations(schema)
        if not any(content.get("examples") for _, content in _contents(operation))
    ]
    assert missing == []


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _item_and_value(
    schema: dict[str, Any], node: dict[str, Any], value: Any
) -> tuple[dict[str, Any], Any]:
    """Unwrap pages and lists down to one object and its example value."""
    node = _resolve(schema, node)
    properties = node.get("properties", {})
    if isinstance(value, dict) and "results" in properties and "count" in properties:
        return _item_and_value(schema, properties["results"], value["results"])
    if node.get("type") == "array" and isinstance(value, list):
        return _item_and_value(schema, node["items"], value[0] if value else None)
    return node, value


def test_success_examples_use_the_fields_of_their_schema(schema: dict[str, Any]) -> None:
    mismatches = []
    for method, path, operation in _partners_operations(schema):
        for code, content in _contents(operation):
            if code != "request" and not code.startswith("2"):
                continue
            if "schema" not in content:
                continue
            for name, example in content.get("examples", {}).items():
                node, value = _item_and_value(schema, content["schema"], example["value"])
                properties = node.get("properties")
                if not properties or value is None:
                    continue
                if not isinstance(value, dict):  # e.g. a list wrapped twice
                    mismatches.append(f"{method} {path} {code} {name!r}: not an object")
                    continue
                unknown = set(value) - set(properties)
                absent = set(node.get("required", [])) - set(value) if code != "request" else set()
                if unknown or absent:
                    mismatches.append(
                        f"{method} {path} {code} {name!r}: unknown {sorted(unknown)}, "
                        f"missing {sorted(absent)}"
                    )
    assert mismatches == [], "\n".join(mismatches)
