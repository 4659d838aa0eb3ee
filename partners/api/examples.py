"""OpenAPI examples shared by the partners API modules (errors in the API's one format)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

NOT_FOUND_EXAMPLE = OpenApiExample(
    "Not found",
    summary="Unknown id, or another tenant's (or partner's) row",
    value={"error": {"status": 404, "code": "not_found", "message": "Not found."}},
    response_only=True,
    status_codes=["404"],
)
