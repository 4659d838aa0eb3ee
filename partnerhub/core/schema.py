"""The OpenAPI generator: every operation documents the errors it can answer with.

drf-spectacular documents only the success responses unless a view says more; the API's
fuzz test (tests/security/test_api_fuzz.py) holds every answer to the schema, so the error
responses every view shares are added here, all in the one format of ``partnerhub.core.errors``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework.permissions import AllowAny

from partnerhub.core.errors import ErrorSerializer


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        errors: dict[str, str] = {}
        if query or "requestBody" in operation:
            errors["400"] = "Invalid input (the details name each field)."
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            errors["401"] = "No valid credentials."
            errors["403"] = "The role or the partner may not do this."
        if "{" in self.path or any(p.get("name") == "page" for p in query):
            errors["404"] = "No such object in this tenant (or no such page)."
        if "requestBody" in operation:
            errors["415"] = "The request body's media type is not accepted."
        if self.view.get_throttles():
            errors["429"] = "Too many requests: try again later."
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = description
                responses[code] = response
        return operation
