"""Domain errors: services raise them, create_app turns them into Italian pages and socket acks."""

from __future__ import annotations

from typing import Any


class PdzError(Exception):
    status = 400

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotAllowed(PdzError):
    status = 403


class NotFound(PdzError):
    status = 404


class Invalid(PdzError):
    """Bad input. `errors` maps a field name (or "" for the whole form) to an Italian message."""

    status = 422

    def __init__(self, message: str = "", errors: dict[str, str] | None = None, **details: Any) -> None:
        super().__init__(message or next(iter((errors or {}).values()), ""), **details)
        self.errors = errors or {"": message}


class EditConflict(PdzError):
    status = 409
