"""Exactly once (issue #13 point 2): a create sent twice stores one thing and gets the first answer.

Every form a browser shows carries a hidden `idempotency_key`, new for each rendered form (the base
`inputs.Form` renders it beside its CSRF token; `static/js/behaviours.js` adds one to any other POST form);
JSON callers send it in the body or as an `Idempotency-Key` header. A create view claims the key in its
unit of work, before it creates anything:

    with unit_of_work():
        first = idempotency.claim("meeting.create", actor=current_user)
        if first is None:
            meeting = services.schedule_meeting(...)
            first = idempotency.answer(redirect(url_for("meetings.detail", meeting_id=meeting.id)))
    return first

`claim` is one `INSERT … ON CONFLICT DO NOTHING` into `idempotency_keys` (SQLite and PostgreSQL), so the
key row is written in the same transaction as the created row. A second identical request that arrives
while the first is still running waits on the key (PostgreSQL waits for the first transaction to end;
SQLite lets one writer at a time), then finds the key taken and answers what the first answered (the same
redirect, or the same JSON with the same id). If the first request failed, its transaction rolled back
with its key, and the second one runs as if it were the first. A request without a key behaves as before.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from flask import flash, g, jsonify, redirect, request
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow
from .errors import Invalid
from .extensions import db
from .inputs import CLIENT_OP_ID

FIELD = "idempotency_key"
HEADER = "Idempotency-Key"


class IdempotencyKey(Base):
    """One create request, by its key: who sent it, which action, and the answer it got."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    status: Mapped[int | None]  # the first answer's HTTP status (None until it is known)
    location: Mapped[str | None] = mapped_column(String(500))  # a redirect's target
    body: Mapped[str | None] = mapped_column(Text)  # a JSON answer
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def new_key() -> str:
    """A fresh key for one rendered form."""
    return secrets.token_urlsafe(18)


def request_key() -> str | None:
    """This request's key (header, form field, or JSON `idempotency_key` or else `client_op_id`: the page's
    identifier of one operation), or None when it sent none."""
    value: Any = request.headers.get(HEADER)
    if not value:
        value = request.form.get(FIELD)
    if not value and request.is_json:
        data = request.get_json(silent=True)
        value = (data.get(FIELD) or data.get("client_op_id")) if isinstance(data, dict) else None
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CLIENT_OP_ID.fullmatch(value):
        raise Invalid(errors={"": _("Identificativo dell'invio non valido: ricarica la pagina e riprova.")})
    return value


def _insert() -> Any:
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(IdempotencyKey)


def claim(action: str, *, actor: Any) -> Any | None:
    """Claim this request's key for `action` in the current transaction. None: go on and create (then
    pass the answer to `answer`); otherwise the answer the first request with this key got."""
    key = request_key()
    g.pdz_idempotency_key = None
    if key is None:
        return None
    inserted = db.session.execute(
        _insert()
        .values(key=key, actor_id=actor.id, action=action, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(IdempotencyKey.key)
    ).scalar()
    if inserted is not None:
        g.pdz_idempotency_key = key
        return None
    first = db.session.execute(
        select(IdempotencyKey).where(IdempotencyKey.key == key).execution_options(populate_existing=True)
    ).scalar_one()
    if first.actor_id != actor.id or first.action != action:
        raise Invalid(
            errors={"": _("Questo modulo è già stato usato per un'altra operazione: ricarica la pagina.")}
        )
    return replay(first)


def replay(first: IdempotencyKey) -> Any:
    """The first answer again: the same redirect, or the same JSON with the same status."""
    if first.body is not None:
        response = jsonify(json.loads(first.body))
        response.status_code = first.status or 200
        return response
    if first.location is not None:
        flash(_("Questa richiesta era già stata registrata: nulla è stato creato una seconda volta."), "info")
        return redirect(first.location, code=first.status or 302)
    raise Invalid(_("Questa richiesta era già stata registrata: ricarica la pagina."))


def answer(response: Any, status: int | None = None) -> Any:
    """Remember `response` (answered with `status`, when the caller sets it later) as the answer to this
    request's key, in the same transaction; returns it."""
    key = getattr(g, "pdz_idempotency_key", None)
    if key is None:
        return response
    g.pdz_idempotency_key = None
    values: dict[str, Any] = {"status": status or response.status_code}
    if response.is_json:
        values["body"] = json.dumps(response.get_json(), ensure_ascii=False, sort_keys=True)
    else:
        values["location"] = response.location
    db.session.execute(update(IdempotencyKey).where(IdempotencyKey.key == key).values(**values))
    return response


def insert_once(model: Any, unique: list[str], **values: Any) -> Any:
    """The row of `model` whose `unique` columns hold these values, inserted unless it is there: one
    `INSERT … ON CONFLICT DO NOTHING` on both databases, then a read, instead of a check-then-insert (two
    requests at once both saw "missing" and the second insert failed on the unique key). `values` fill a
    new row only; the caller changes the returned row as it needs."""
    db.session.flush()  # a row added in this unit of work is in the table before the statement
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=unique))
    return db.session.execute(
        select(model)
        .filter_by(**{name: values[name] for name in unique})
        .execution_options(populate_existing=True)
    ).scalar_one()
