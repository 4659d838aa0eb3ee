"""The OpenAPI generator: every operation documents the errors it can answer with.

drf-spectacular documents only the success responses unless a view says more; the API's
fuzz test (tests/security/test_api_fuzz.py) holds every answer to the schema, so the error
responses every view shares are added here, all in the one format of ``partnerhub.core.errors``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular import openapi
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from partnerhub.core.errors import ErrorSerializer


def _blank_model_text(field: serializers.Field) -> bool:
    """A read-only serializer field over a model text field that may hold "" (``blank=True``).

    DRF drops ``allow_blank`` from read-only model fields, so the schema would claim a URL, an
    e-mail address or one of the choices where the API sends "".
    """
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    source = field.source
    if not field.read_only or model is None or not isinstance(source, str) or "." in source:
        return False
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return False
    return isinstance(model_field, models.CharField | models.TextField) and model_field.blank


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        blank = isinstance(field, serializers.CharField | serializers.ChoiceField) and (
            _blank_model_text(field)
        )
        if blank:
            # drf-spectacular then documents "" beside the format or the choices (oneOf).
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

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
