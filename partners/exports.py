"""CSV and XLSX downloads of any table, safe to open in a spreadsheet.

Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab, CR or
LF, also after leading spaces) get a leading apostrophe; numbers, Decimals and dates stay
typed cells, so a negative amount is still a number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any, Literal

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FileFormat = Literal["csv", "xlsx"]
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_text(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet could read it as a formula."""
    start = 0
    # Spaces (any Unicode space except tab, CR, LF, which are triggers themselves) are skipped.
    while start < len(value) and value[start].isspace() and value[start] not in "\t\r\n":
        start += 1
    if start < len(value) and value[start] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """A typed value (number, Decimal, date, bool) unchanged; anything else as safe text."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        # Spreadsheets know no time zones: local time of the active zone, without one.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date | time):
        return value
    return safe_text(str(value))


def _csv_value(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _xlsx_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, str):
        # openpyxl refuses control characters; a string starting with "=" would be a formula,
        # which safe_text already prevented.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _filename(filename: str, file_format: FileFormat) -> str:
    base = _SAFE_FILENAME.sub("-", filename).strip("-.") or "export"
    if base.lower().endswith(f".{file_format}"):
        base = base[: -len(file_format) - 1]
    return f"{base}.{file_format}"


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte order mark makes Excel read the file as UTF-8.
    yield "\ufeff" + writer.writerow([_csv_value(c) for c in columns])
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


class TableWriter:
    """Writes rows under a header to a binary file as CSV or XLSX, batch by batch.

    The same escaping as ``export_rows``: text cells are formula-safe, numbers stay numbers.
    XLSX uses openpyxl's write-only mode, so memory stays flat for big tables; ``close()``
    finishes the file (the workbook is written only then).
    """

    def __init__(
        self,
        out: IO[bytes],
        *,
        columns: Sequence[str],
        file_format: FileFormat | str,
        sheet_title: str = "Export",
    ) -> None:
        if file_format not in FILE_FORMATS:
            raise ValueError(f"Unknown export format {file_format!r}: use csv or xlsx.")
        self.out = out
        self.file_format = file_format
        self.rows_written = 0
        if file_format == "csv":
            self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
            self._csv = csv.writer(self._text)
            self._text.write("\ufeff")
            self._csv.writerow([_csv_value(c) for c in columns])
        else:
            self._workbook = Workbook(write_only=True)
            self._sheet = self._workbook.create_sheet(title=sheet_title)
            self._sheet.append([_xlsx_value(c) for c in columns])

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Append ``rows``; returns how many were written."""
        count = 0
        for row in rows:
            if self.file_format == "csv":
                self._csv.writerow([_csv_value(v) for v in row])
            else:
                self._sheet.append([_xlsx_value(v) for v in row])
            count += 1
        self.rows_written += count
        return count

    def close(self) -> None:
        if self.file_format == "csv":
            self._text.flush()
            # The caller owns ``out``: detach so closing the wrapper never closes it.
            self._text.detach()
        else:
            self._workbook.save(self.out)


def export_rows(
    *,
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    file_format: FileFormat | str,
    filename: str,
) -> HttpResponseBase:
    """A download of ``rows`` under a header of ``columns``: CSV (streamed) or XLSX.

    The rows are read here, before returning: a request runs in its tenant's transaction
    (ORM scope and row-level security), which has ended by the time a streamed body is sent.
    Only the encoding of the CSV is streamed.
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"Unknown export format {file_format!r}: use csv or xlsx.")
    rows = [tuple(row) for row in rows]
    fmt: FileFormat = "csv" if file_format == "csv" else "xlsx"
    name = _filename(filename, fmt)
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(rows, columns), content_type=CONTENT_TYPES["csv"]
        )
    else:
        buffer = io.BytesIO()
        writer = TableWriter(buffer, columns=columns, file_format="xlsx")
        writer.write(rows)
        writer.close()
        response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def filter_errors(filterset: Any) -> str:
    """A FilterSet's errors as one line, naming each field."""
    return "Invalid filter: " + "; ".join(
        f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
    )


def filtered_export(
    request: Any,
    *,
    filterset: Any,
    rows: Callable[[Any], Iterable[Sequence[Any]]],
    columns: Sequence[str],
    name: str,
) -> HttpResponseBase:
    """A page's export: ``?file_format=csv|xlsx`` of ``rows(filterset.qs)``, dated file name.

    An unknown format or a filter value that does not validate is a 400 naming the problem.
    """
    file_format = request.GET.get("file_format", "csv")
    if file_format not in FILE_FORMATS:
        return HttpResponse("Unknown export format: use csv or xlsx.", status=400)
    if not filterset.is_valid():
        return HttpResponse(filter_errors(filterset), status=400)
    return export_rows(
        rows=rows(filterset.qs),
        columns=columns,
        file_format=file_format,
        filename=f"{name}-{timezone.localdate().isoformat()}",
    )
