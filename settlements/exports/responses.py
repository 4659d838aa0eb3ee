"""HTTP responses of export files: always attachments, never cached, never sniffed.

Files are read from storage by the view that checked who asks; nothing is served from
MEDIA_URL, so a file's link is only as good as the permission check in front of it.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse

from settlements.exports.files import CONTENT_TYPES
from settlements.models import SettlementExport


def _harden(response: HttpResponse | FileResponse) -> None:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"


def export_file_response(export: SettlementExport) -> FileResponse:
    """The export's stored file as a download; 404 while it is not ready."""
    if not export.is_ready:
        raise Http404("This export has no file yet.")
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.file_name,
        content_type=CONTENT_TYPES[export.file_format],
    )
    _harden(response)
    return response


def bytes_response(content: bytes, *, file_format: str, filename: str) -> HttpResponse:
    """Bytes built in the request (a small export, one statement's PDF) as a download."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    _harden(response)
    return response
