"""Any export kind written to a binary file, batch by batch of statements.

The same writer serves the synchronous downloads (a BytesIO, one batch) and the export task
(a temporary file, batches in their own transactions so the progress is visible meanwhile).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date
from typing import IO

from partnerhub.tenancy.models import Tenant
from partners.exports import TableWriter
from settlements.exports.journal import JOURNAL_COLUMNS, journal_rows
from settlements.exports.pdf import statement_pdf, statement_pdf_name
from settlements.exports.tables import LINE_COLUMNS, STATEMENT_COLUMNS, line_rows, statement_rows
from settlements.models import JournalSettings, SettlementExport, Statement

Kind = SettlementExport.Kind

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "pdf": "application/pdf",
}
_BASENAMES = {
    Kind.STATEMENTS: "statements",
    Kind.LINES: "statement-lines",
    Kind.JOURNAL: "journal",
    Kind.PDF_ZIP: "statements-pdf",
}
_SHEETS = {Kind.STATEMENTS: "Statements", Kind.LINES: "Lines", Kind.JOURNAL: "Journal"}


def export_formats(kind: str) -> tuple[str, ...]:
    """The file formats a kind can be written in."""
    return ("zip",) if kind == Kind.PDF_ZIP else ("csv", "xlsx")


def export_file_name(*, kind: str, file_format: str, month: date) -> str:
    return f"{_BASENAMES[Kind(kind)]}-{month:%Y-%m}.{file_format}"


def needs_lines(kind: str) -> bool:
    return kind in (Kind.LINES, Kind.PDF_ZIP)


class ExportWriter:
    """Writes one export kind to ``out``; ``add`` a batch of statements, then ``close``."""

    def __init__(
        self,
        out: IO[bytes],
        *,
        kind: str,
        file_format: str,
        tenant: Tenant,
        accounts: JournalSettings | None = None,
    ) -> None:
        if file_format not in export_formats(kind):
            raise ValueError(
                f"A {kind} export is written as {' or '.join(export_formats(kind))}, "
                f"not {file_format}."
            )
        self.kind = Kind(kind)
        self.tenant = tenant
        self.accounts = accounts or JournalSettings()
        self.rows_written = 0
        self._zip: zipfile.ZipFile | None = None
        self._table: TableWriter | None = None
        if self.kind == Kind.PDF_ZIP:
            self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        else:
            columns = {
                Kind.STATEMENTS: STATEMENT_COLUMNS,
                Kind.LINES: LINE_COLUMNS,
                Kind.JOURNAL: JOURNAL_COLUMNS,
            }[self.kind]
            self._table = TableWriter(
                out, columns=columns, file_format=file_format, sheet_title=_SHEETS[self.kind]
            )

    def add(self, statements: Sequence[Statement]) -> int:
        """Write the rows (or PDFs) of ``statements``; returns how many rows or files."""
        if self._zip is not None:
            for statement in statements:
                self._zip.writestr(
                    statement_pdf_name(statement), statement_pdf(statement, tenant=self.tenant)
                )
            count = len(statements)
        else:
            assert self._table is not None
            if self.kind == Kind.STATEMENTS:
                rows = statement_rows(statements)
            elif self.kind == Kind.LINES:
                rows = line_rows(statements)
            else:
                rows = journal_rows(statements, self.accounts)
            count = self._table.write(rows)
        self.rows_written += count
        return count

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        elif self._table is not None:
            self._table.close()
