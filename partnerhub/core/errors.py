"""One error format for the whole API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the same shape:

    ``{"error": {"status": 400, "code": "invalid", "message": "...", "details": {...}}}``
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        body["code"] = codes if isinstance(codes, str) else "invalid"
    if isinstance(exc, exceptions.ValidationError):
        detail = response.data
        if isinstance(detail, dict):
            body["message"] = "The request has invalid fields."
            body["details"] = detail
        else:
            body["message"] = (
                " ".join(str(d) for d in detail) if isinstance(detail, list) else str(detail)
            )
    else:
        data = response.data
        body["message"] = str(data.get("detail", data)) if isinstance(data, dict) else str(data)
    response.data = {"error": body}
    return response


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(required=False, help_text="Field name -> its messages.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"status": status, "code": code, "message": message}}, status=status
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL no route matches: under ``/api/`` the API's error format, elsewhere the 404 page
    (a path parameter that is not a number never reaches a DRF view)."""
    if request.path.startswith("/api/"):
        return _api_error(404, "not_found", "No such resource.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled exception: under ``/api/`` the API's error format, elsewhere the 500 page."""
    if request.path.startswith("/api/"):
        return _api_error(500, "server_error", "Internal server error.")
    return defaults.server_error(request)


def lockout(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: the API's error format on the token
    endpoint, the "sign-in paused" page elsewhere."""
    from axes.helpers import get_client_username, get_cool_off

    if request.path.startswith("/api/"):
        return _api_error(429, "locked_out", "Too many failed sign-ins: try again later.")
    context = {
        "username": get_client_username(request, credentials) or "",
        "cooloff_timedelta": get_cool_off(request),
    }
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
