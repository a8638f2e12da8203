"""The shape and range of what arrives from outside: ids, texts, JSON objects (issue #13: no 500 from input).

- Every `<int:…>` in a URL is a positive id that an INTEGER column can hold (1 … 2^31-1); anything else
  (zero, a sign, 2^63, a thousand digits) is a 404 (`IdConverter`).
- Every request is refused with a 400 and an Italian message when a text in it (query, form, JSON) holds a
  NUL character or half of a surrogate pair, or when its JSON body is malformed or not an object
  (`refuse_malformed_request`, installed by `install`).
- Ids and numbers read from forms, query strings, JSON and socket payloads go through `positive_id` / `int32`.
- Forms derive from `Form`: JSON values must be texts or numbers, numbers stay within what an INTEGER
  column holds, and one-line fields (titles, places, names) refuse control characters; `line_problem` and
  `text_value` check the values that reach a service another way (JSON, sockets).
- A value the database still refuses (too long for its column...) is answered 422, not 500; a row a unique
  constraint refuses because another request stored it first is answered 409 (`refused_as_duplicate`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map
from werkzeug.routing import ValidationError as NoMatch
from wtforms import PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from .errors import Invalid
from .extensions import db

# Every id is an INTEGER primary key: 32 bits on PostgreSQL (SQLAlchemy binds parameters with a cast to
# the column's type, so a larger value fails there even in a comparison), 64 bits on SQLite.
MAX_ID = 2**31 - 1
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
_DIGITS = re.compile(r"[1-9][0-9]{0,18}")  # an id as text: ASCII digits, no sign, no leading zero
CLIENT_OP_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # a page's identifier of one operation (a retried send)
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = {"\u2028", "\u2029"}  # line and paragraph separators: not in category Cc, still line breaks


class IdConverter(IntegerConverter):
    """`<int:…>` in every URL rule: ASCII digits, 1 … MAX_ID (so no database ever sees an id it cannot hold)."""

    regex = r"[0-9]+"

    def __init__(
        self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)

    def to_python(self, value: str) -> Any:
        if len(value) > 19:  # int() of thousands of digits is slow, and refused past 4300 of them
            raise NoMatch()
        return super().to_python(value)


# --- values -------------------------------------------------------------------------------------------


def positive_id(value: Any) -> int | None:
    """An id sent by a page (JSON number or digits in a string): 1 … MAX_ID, else None. Booleans and
    fractions are not ids."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
        return number if number <= MAX_ID else None
    return None


def _integer(value: Any, limit: int) -> int:
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", value):
            raise ValueError("not an integer")
    if not isinstance(value, (int, str)):
        raise ValueError("not an integer")
    number = int(value)
    if not -limit - 1 <= number <= limit:
        raise ValueError("out of range")
    return number


def int32(value: Any) -> int:
    """An integer for an INTEGER column (a year, a count, an id) from a form, a query string or JSON: ASCII
    digits with an optional sign, or a JSON integer, within 32 bits; ValueError otherwise, so that
    `request.args.get(name, type=int32)` falls back to its default."""
    return _integer(value, MAX_INT32)


def int64(value: Any) -> int:
    """Like `int32`, for a BIGINT column (live event positions)."""
    return _integer(value, MAX_INT64)


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored (NUL, half a surrogate pair), in Italian; None when it can."""
    if "\x00" in value:
        return _("Il testo contiene il carattere nullo (\\0), che non è ammesso: toglilo e riprova.")
    if _SURROGATE.search(value):
        return _("Il testo contiene caratteri non validi (Unicode incompleto): ricopialo e riprova.")
    return None


def line_problem(value: str) -> str | None:
    """Why a one-line value (title, place, name) is refused: control characters such as line breaks."""
    if any(unicodedata.category(c) == "Cc" or c in _LINE_BREAKS for c in value):
        return _("Questo campo va scritto su una sola riga, senza a capo né caratteri di controllo.")
    return text_problem(value)


def text_value(value: Any, field: str = "") -> str:
    """A (possibly multi-line) text for a service: refused when it is not a string (a list, a number...)."""
    if not isinstance(value, str):
        raise Invalid(errors={field: _("Valore non valido: è atteso un testo.")})
    problem = text_problem(value)
    if problem:
        raise Invalid(errors={field: problem})
    return value


def first_problem(value: Any, depth: int = 0) -> str | None:
    """The first unstorable text anywhere in a decoded JSON value (keys included), or None."""
    if depth > 32:
        return _("La richiesta è annidata troppo in profondità.")
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = first_problem(key, depth + 1) or first_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, (list, tuple)):
        for item in value:
            problem = first_problem(item, depth + 1)
            if problem:
                return problem
    return None


class OneLine:
    """WTForms validator: the field's text stays on one line and holds no control characters."""

    def __call__(self, form: Any, field: Any) -> None:
        problem = line_problem(field.data) if isinstance(field.data, str) else None
        if problem:
            raise ValidationError(problem)


def _is_one_line(field: Any) -> bool:
    return isinstance(field, StringField) and not isinstance(field, (TextAreaField, PasswordField))


class Form(FlaskForm):
    """Base of every PdZ form.

    - A JSON body feeds the fields texts and numbers only: a list only where a field takes several values
      (SelectMultipleField), never an object; anything else is refused, not stringified.
    - Numbers beyond what an INTEGER column holds (IntegerField, SelectField with `coerce=int`) become a
      field error and `None`, so even a view that does not validate never sends them to the database.
    - Every one-line field (a StringField that is not a TextAreaField or a PasswordField: titles, places,
      names, codes) refuses control characters such as line breaks.
    - The CSRF token renders with a hidden `idempotency_key`, new for each rendered form, so that a double
      click or a resent form creates one thing (`pdz.idempotency`)."""

    class Meta(FlaskForm.Meta):
        def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
            html = super().render_field(field, render_kw)
            if field.type == "CSRFTokenField":
                key = Markup(
                    '<input type="hidden" name="idempotency_key" value="%s">'
                ) % secrets.token_urlsafe(18)
                return html + key
            return html

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is None or not request.is_json or request.form:
                return wrapped
            flat: MultiDict[str, str] = MultiDict()
            for key, value in (request.get_json(silent=True) or {}).items():
                several = isinstance(getattr(form, key, None), SelectMultipleField)
                values = value if several and isinstance(value, list) else [value]
                for one in values:
                    if isinstance(one, bool) or not isinstance(one, (str, int, float)):
                        raise Invalid(
                            errors={
                                "": _("Richiesta non valida: i dati inviati non sono nel formato atteso.")
                            }
                        )
                    flat.add(key, str(one))
            return flat

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self._fields.values():
            numbers = field.data if isinstance(field.data, list) else [field.data]
            if any(isinstance(n, int) and not isinstance(n, bool) and abs(n) > MAX_INT32 for n in numbers):
                field.data = [] if isinstance(field.data, list) else None
                field.process_errors.append(_("Numero fuori dall'intervallo ammesso."))

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        extra = {name: list((extra_validators or {}).get(name, ())) for name in self._fields}
        for name, field in self._fields.items():
            if _is_one_line(field):
                extra[name].append(OneLine())
        return bool(super().validate(extra_validators=extra))


class EmptyForm(Form):
    """A form with only the CSRF token, for POST buttons."""


def parse_int(value: Any) -> int | None:
    """An integer a database column holds, from a form value (digits, optional sign), else None."""
    try:
        return int32(value) if value is not None else None
    except ValueError:
        return None


# --- requests -----------------------------------------------------------------------------------------

BAD_REQUEST = _l("Richiesta non valida")


def payload() -> dict[str, Any]:
    """What a view reads from a JSON-or-form endpoint: the JSON object (its shape and texts already checked
    by `refuse_malformed_request`), or the form's fields as texts."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise Invalid(_("Richiesta non valida: i dati inviati non sono nel formato atteso."))
        return data
    return request.form.to_dict()


def _refusal(message: str, status: int = 400) -> Any:
    if (
        request.is_json
        or request.accept_mimetypes.best == "application/json"
        or request.path.startswith("/api/")
    ):
        return jsonify(ok=False, error=message, errors={"": message}), status
    return render_template("error.html", status=status, title=BAD_REQUEST, message=message), status


REFUSED_BY_THE_DATABASE = _l(
    "Un valore inviato non può essere registrato (troppo lungo o fuori dall'intervallo ammesso): "
    "correggilo e riprova."
)


def refused_by_the_database(error: DataError) -> Any:
    """The last line of defence: a value the database refuses (too long for its column, a number beyond
    the column's range) is bad input, answered 422; nothing was stored (the unit of work rolled back)."""
    db.session.rollback()
    current_app.logger.warning("value refused by the database: %s", error.orig)
    return _refusal(str(REFUSED_BY_THE_DATABASE), 422)


CONCURRENT_CHANGE = _l(
    "Qualcun altro ha appena fatto la stessa operazione: ricarica la pagina per vedere il risultato. "
    "Non è stato registrato nulla due volte."
)


def refused_as_duplicate(error: IntegrityError) -> Any:
    """The backstop of check-then-insert: two different requests raced for a row a unique constraint allows
    once (an identical repeat is answered by `pdz.idempotency`). The loser is answered 409, never 500; its
    transaction rolled back, and sent again it finds the row the winner stored."""
    orig = error.orig
    if type(orig).__name__ != "UniqueViolation" and "UNIQUE constraint failed" not in str(orig):
        raise error  # a foreign key or a missing value: a bug, not a race
    db.session.rollback()
    current_app.logger.warning("concurrent insert refused by a unique constraint: %s", orig)
    return _refusal(str(CONCURRENT_CHANGE), 409)


def refuse_malformed_request() -> Any:
    """Before every view: texts without NUL or broken Unicode, and a JSON body that is a well-formed object."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and text_problem(value):
            abort(404)  # no page has a name like that
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            problem = text_problem(key) or text_problem(value)
            if problem:
                return _refusal(problem)
    if request.is_json and request.get_data(cache=True):
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # nested thousands of levels deep
            data = None
        if not isinstance(data, dict):
            return _refusal(_("Richiesta non valida: i dati inviati non sono nel formato atteso."))
        problem = first_problem(data)
        if problem:
            return _refusal(problem)
    return None


def install(app: Flask) -> None:
    """Before the blueprints are registered: their `<int:…>` rules are built with `IdConverter`."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_malformed_request)
    app.register_error_handler(DataError, refused_by_the_database)
    app.register_error_handler(IntegrityError, refused_as_duplicate)
