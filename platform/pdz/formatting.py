"""Italian-first display helpers for templates: dates in Europe/Rome, numbers and enum labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal

from . import labels

ROME = ZoneInfo("Europe/Rome")


def local(value: datetime) -> datetime:
    return value.astimezone(ROME)


def register(app: Flask) -> None:
    @app.template_filter("datetime")
    def _datetime(value: datetime | None, fmt: str = "d MMM yyyy, HH:mm") -> str:
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "d MMMM yyyy") -> str:
        return format_date(value, fmt) if value else ""

    @app.template_filter("number")
    def _number(value: Any) -> str:
        return format_decimal(value) if value is not None else "—"

    @app.template_filter("label")
    def _label(value: Any) -> str:
        return labels.label(value)

    @app.template_filter("markdown")
    def _markdown(value: str | None) -> Any:
        from .text import render_markdown

        return render_markdown(value or "")

    @app.template_filter("cents")
    def _cents(value: int | None, symbol: bool = True) -> str:
        from .cards.money import format_cents

        return format_cents(value, symbol=symbol)
