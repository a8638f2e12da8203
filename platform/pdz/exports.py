"""Downloads built from people's text: every CSV goes through `csv_response`, which neutralises cells a
spreadsheet would read as a formula (CSV injection, OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Response

from .formatting import format_local

# A spreadsheet evaluates a cell starting with one of these (tab and carriage return included: some
# programs strip them and then see the formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that would start a formula gets a leading apostrophe, shown as text by spreadsheet programs.
    Numbers stay numbers: only strings come from what people typed. A time is written in Europe/Rome."""
    if isinstance(value, datetime):
        return format_local(value, "stamp")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def csv_response(rows: Iterable[Iterable[Any]], filename: str, *, excel_bom: bool = False) -> Response:
    """Rows as a downloadable CSV; `excel_bom` prefixes a BOM so spreadsheet programs read UTF-8."""
    return Response(
        ("\ufeff" if excel_bom else "") + csv_text(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
