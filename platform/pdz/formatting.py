"""Italian-first display helpers for templates: dates in Europe/Rome, numbers and enum labels.

Every time PdZ shows (pages, mails, calendars, PDF, DOCX, CSV) goes through `local` and `format_local`:
the database stores UTC, people read Europe/Rome.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from flask import Flask, has_app_context
from flask_babel import format_decimal, get_locale

from . import labels
from .money import format_cents
from .text import render_markdown

ROME = ZoneInfo("Europe/Rome")

# Named styles; any other string is used as a Babel (CLDR) pattern.
STYLES = {
    "datetime": "d MMM yyyy, HH:mm",  # 28 mar 2026, 10:55
    "date": "d MMMM yyyy",  # 28 marzo 2026
    "day": "dd/MM/yyyy",  # 28/03/2026
    "time": "HH:mm",  # 10:55
    "stamp": "dd/MM/yyyy HH:mm",  # 28/03/2026 10:55 (CSV, PDF)
}


def local(value: datetime) -> datetime:
    """The same moment on the clocks of Rome. A naive value is UTC: that is how the database stores times."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ROME)


def _locale() -> Locale:
    found = get_locale() if has_app_context() else None
    return found or Locale("it")


def format_local(value: date | datetime | None, style: str = "datetime") -> str:
    """The one way to show a time: in Europe/Rome, in the reader's language. A plain date (a deadline, an
    adhesion day) has no time zone and is shown as it is."""
    if value is None:
        return ""
    pattern = STYLES.get(style, style)
    if isinstance(value, datetime):
        return babel_dates.format_datetime(local(value), pattern, tzinfo=ROME, locale=_locale())
    return babel_dates.format_date(value, pattern, locale=_locale())


def register(app: Flask) -> None:
    @app.template_filter("datetime")
    def _datetime(value: datetime | None, fmt: str = "datetime") -> str:
        return format_local(value, fmt)

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "date") -> str:
        return format_local(value, fmt)

    @app.template_filter("number")
    def _number(value: Any) -> str:
        return format_decimal(value) if value is not None else "—"

    @app.template_filter("label")
    def _label(value: Any, person: Any = None) -> str:
        return labels.label(value, person)

    @app.template_filter("markdown")
    def _markdown(value: str | None) -> Any:
        return render_markdown(value or "")

    @app.template_filter("cents")
    def _cents(value: int | None, symbol: bool = True) -> str:
        return format_cents(value, symbol=symbol)
