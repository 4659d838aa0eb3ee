"""Uploads: checked by content (not only by name), size-limited, stored per tenant and partner."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from partnerhub.accounts.models import User
from partners.models import Document, Partner, ProgramSettings

ALLOWED = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
SNIFF_BYTES = 8192


def _is_xlsx(head: bytes, upload: UploadedFile) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    finally:
        upload.seek(0)
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _is_csv(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The sniff window may cut a multi-byte character: allow only that.
        try:
            text = head[:-3].decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
    stripped = text.lstrip().lower()
    if stripped.startswith(("<", "{", "%pdf")):
        return False
    return "," in text or ";" in text or "\t" in text


def detect_content_type(upload: UploadedFile) -> tuple[str, str]:
    """(extension, MIME type) from the file's bytes; ValidationError when not allowed."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    name = (upload.name or "").lower()
    if kind is not None and kind.extension in ("pdf", "png", "jpg"):
        found = kind.extension
    elif _is_xlsx(head, upload):
        found = "xlsx"
    elif kind is None and name.endswith(".csv") and _is_csv(head):
        found = "csv"
    else:
        raise ValidationError(
            "File type not allowed: upload a PDF, PNG, JPEG, XLSX or CSV file "
            "(the content is checked, not only the name).",
            code="file_type",
        )
    claimed = name.rsplit(".", 1)[-1] if "." in name else ""
    if claimed in ("jpeg", "jpe"):
        claimed = "jpg"
    if claimed and claimed != found:
        raise ValidationError(
            f"The file is named .{claimed} but its content is {found.upper()}.",
            code="file_mismatch",
        )
    return found, ALLOWED[found]


def max_upload_bytes() -> int:
    settings_row = ProgramSettings.objects.first()
    return (settings_row.max_upload_mb if settings_row else 10) * 1024 * 1024


@transaction.atomic
def document_upload(
    *,
    partner: Partner,
    upload: UploadedFile,
    doc_type: str,
    uploaded_by: User | None,
    title: str = "",
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> Document:
    """Check and store an uploaded file for ``partner``."""
    limit = max_upload_bytes()
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            f"The file is larger than the {limit // (1024 * 1024)} MB limit.", code="file_size"
        )
    if upload.size == 0:
        raise ValidationError("The file is empty.", code="file_empty")
    _, mime = detect_content_type(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        tenant_id=partner.tenant_id,
        partner=partner,
        doc_type=doc_type,
        title=title[:200],
        original_name=(upload.name or "upload")[:255],
        content_type=mime,
        size=upload.size,
        sha256=digest.hexdigest(),
        issued_on=issued_on,
        expires_on=expires_on,
        uploaded_by=uploaded_by,
    )
    document.file.save("upload", upload, save=False)
    try:
        document.full_clean(exclude=["file"])
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    return document


def open_document(document: Document) -> io.BufferedReader:
    """The stored bytes; callers must have checked access (selectors do)."""
    return document.file.open("rb")
