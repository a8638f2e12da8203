"""What views share: the one action runner (a service in one unit of work, its refusals answered the same
way everywhere), a service's Invalid errors next to the form fields, CSV downloads."""

from __future__ import annotations

import contextlib
import csv
import io
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, flash, jsonify, make_response, redirect, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from . import idempotency
from .db import unit_of_work
from .errors import EditConflict, Invalid, PdzError
from .extensions import db

T = TypeVar("T")
Page = str | Callable[[], Any] | None

# SQLite has one writer at a time and its busy handler waits by sleeping in steps of up to 100 ms: queueing
# this process's writes on a lock instead wakes the next writer as soon as the lock is free.
_SQLITE_WRITES = threading.Lock()


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def transaction(action: Callable[[], T], *, attempts: int = 1) -> T:
    """`action` in one unit of work (committed on success, rolled back on any exception). With `attempts`, a
    unique-constraint clash (a concurrent duplicate of the same operation) runs it again: it then replays."""
    serial = _SQLITE_WRITES if db.engine.dialect.name == "sqlite" else contextlib.nullcontext()
    for attempt in range(attempts):
        try:
            with serial, unit_of_work():
                return action()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def refused(
    error: PdzError, page: Page = None, *, json: bool = False, form: Any = None, flash_general: bool = False
) -> Any:
    """The one answer to a refused action, with the error's status (Invalid 422, EditConflict 409, ...).

    JSON when the client asks for it (or `json`): {"ok": false, "error": message, "errors": {field: message}}.
    With a `form` (a page that shows a form again), bad input goes next to the form's fields (`attach_errors`)
    and `page` (a callable) renders the form again; with `flash_general`, a message about the whole form (the
    moment, not a field) is also flashed, for pages that may not show the form in that state. Otherwise the Italian message is flashed on `page`: a
    callable returning the page (a redirect stays a redirect), or the URL of the page the person came from,
    shown again (a 303 to it where it has no GET). Without a page, and for refusals other than bad input or
    a conflict, the app's error page answers."""
    if json or wants_json():
        errors = getattr(error, "errors", None) or {"": error.message}
        return jsonify(ok=False, error=error.message, errors=errors), error.status
    if page is None or not isinstance(error, Invalid | EditConflict):
        raise error
    if form is not None and isinstance(error, Invalid):
        attach_errors(form, error)
        if flash_general and "" in error.errors:
            flash(error.errors[""], "error")
    else:
        flash(error.message, "error")
    if callable(page):
        response = make_response(page())
        if not 300 <= response.status_code < 400:  # a redirect stays a redirect
            response.status_code = error.status
        return response
    try:
        endpoint, args = current_app.url_map.bind("localhost").match(urlsplit(page).path, method="GET")
        response = make_response(current_app.view_functions[endpoint](**args))
    except (HTTPException, PdzError):
        return redirect(page), 303
    response.status_code = error.status
    return response


def run(
    action: Callable[[], T],
    answer: Callable[[T], Any],
    *,
    page: Page = None,
    form: Any = None,
    once: str | None = None,
    attempts: int = 1,
    json: bool = False,
    flash_general: bool = False,
) -> Any:
    """Run a service from a view: `action` in one unit of work (see `transaction`), then `answer` (given what
    it returned) makes the response, inside the same unit of work. With `once` (an idempotency scope), a
    request sent twice acts once and gets the first answer again (`pdz.idempotency`). A domain error rolls
    everything back and is answered by `refused` (on `page`, next to the fields of `form`, or as JSON;
    `flash_general`: see there)."""

    def act() -> Any:
        if once is not None:
            first = idempotency.claim(once, actor=current_user)
            if first is not None:
                return first
            return idempotency.answer(answer(action()))
        return answer(action())

    try:
        return transaction(act, attempts=attempts)
    except PdzError as error:
        return refused(error, page, json=json, form=form, flash_general=flash_general)


class Problems:
    """The errors of a form written by hand (its template reads a message and the messages by field name
    instead of a WTForms form): give it to `run`/`refused` as `form`, read it in `page`."""

    def __init__(self) -> None:
        self.message = ""
        self.errors: dict[str, str] = {}


def attach_errors(form: Any, error: Invalid) -> None:
    """A refusal's messages next to the fields of `form` (a WTForms form or `Problems`)."""
    if isinstance(form, Problems):
        form.message = error.message
        form.errors.update(error.errors)
        return
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
