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
# A partner document as staff see it; the portal shows the same without partner and uploader.
DOCUMENT_EXAMPLE = {
    "id": 310,
    "partner": 42,
    "doc_type": "content_licence",
    "title": "Content licence 2026",
    "original_name": "streamwave-content-licence-2026.pdf",
    "content_type": "application/pdf",
    "size": 482113,
    "sha256": "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
    "issued_on": "2026-01-15",
    "expires_on": "2027-01-14",
    "uploaded_by": "manager@demo.test",
    "uploaded_at": "2026-11-18T09:12:00Z",
    "download_url": "/api/v1/partners/42/documents/310/download/",
}
