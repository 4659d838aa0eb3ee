"""Everything a response says, as text: HTML, JSON, CSV, XLSX/ZIP members, PDF text."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable

from django.http import HttpResponseBase
from pypdf import PdfReader


def response_bytes(response: HttpResponseBase) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


def _texts(data: bytes) -> Iterable[str]:
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from _texts(archive.read(member))
        return
    if data.startswith(b"%PDF"):
        reader = PdfReader(io.BytesIO(data))
        yield "\n".join(page.extract_text() or "" for page in reader.pages)
        return
    yield data.decode("utf-8", errors="replace")


def response_text(response: HttpResponseBase) -> str:
    """The body as searchable text, with files opened (XLSX is a ZIP of XML, PDFs as text)."""
    return "\n".join(_texts(response_bytes(response)))


def leaks(text: str, *, markers: set[str], amounts: set[str], ids: set[int]) -> list[str]:
    """What of the foreign objects shows up in ``text``: markers, amounts, ids as tokens."""
    found = [m for m in markers if m.lower() in text.lower()]
    found += [a for a in amounts if a in text]
    found += [f"id {i}" for i in ids if re.search(rf"(?<![\w.,-]){i}(?![\w])", text) is not None]
    return found
