"""Finance exports of statements: CSV/XLSX tables, the GL journal, PDF statements and their ZIP.

``filters`` selects a month's statements, ``tables`` and ``journal`` turn them into rows under
documented, stable columns (docs/settlement-exports.md), ``pdf`` renders one statement and
``files`` writes any export kind to a file, batch by batch, for a download or a task.
"""
