"""Small helpers shared by views: put a service's Invalid errors next to the form fields."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response

from .errors import Invalid


def attach_errors(form: Any, error: Invalid) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def csv_response(rows: list[list[Any]], filename: str, *, excel_bom: bool = False) -> Any:
    """Rows as a downloadable CSV; `excel_bom` prefixes a BOM so spreadsheet programs read UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return Response(
        ("\ufeff" if excel_bom else "") + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
