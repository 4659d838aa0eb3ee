"""CSV/XLSX downloads of API lists: the list's filters, then ``?file_format=csv|xlsx``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.http import HttpResponseBase
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request

from partnerhub.core.api import ErrorSerializer
from partners.exports import CONTENT_TYPES, FILE_FORMATS, export_rows

FILE_FORMAT_PARAMETER = OpenApiParameter(
    "file_format",
    OpenApiTypes.STR,
    enum=list(FILE_FORMATS),
    default="csv",
    description="csv (UTF-8 with a byte order mark) or xlsx.",
)


def export_schema(*, summary: str, description: str, example_csv: str) -> Callable[[Any], Any]:
    """The OpenAPI description of an export action: both file types, and a 400 for others."""
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[FILE_FORMAT_PARAMETER],
        filters=True,  # the list's filters apply; document them here too
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The filtered rows as CSV",
                examples=[OpenApiExample("CSV", value=example_csv, media_type="text/csv")],
            ),
            (200, CONTENT_TYPES["xlsx"]): OpenApiResponse(
                OpenApiTypes.BINARY, description="The filtered rows as an Excel workbook"
            ),
            (400, "application/json"): OpenApiResponse(
                ErrorSerializer, description="Unknown file_format or filter value"
            ),
        },
    )


def export_response(
    request: Request,
    *,
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    name: str,
) -> HttpResponseBase:
    """The download, or a 400 in the API's error format for an unknown ``file_format``."""
    file_format = request.query_params.get("file_format", "csv")
    if file_format not in FILE_FORMATS:
        raise serializers.ValidationError({"file_format": ["Use csv or xlsx."]})
    return export_rows(
        rows=rows,
        columns=columns,
        file_format=file_format,
        filename=f"{name}-{timezone.localdate().isoformat()}",
    )
