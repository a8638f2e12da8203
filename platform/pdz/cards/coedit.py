"""Cards as co-written documents: every free-text and Markdown field of the template is a `Y.Text`.

Choices, yes/no and the lists (objectives, actions, budget lines...) are structured values saved through
`services` as soon as they change; only free text goes through the engine.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from .. import audit, policy
from ..coedit import DocKind, FieldChange, engine, register
from ..coedit.models import CoDoc
from ..coedit.registry import extends
from ..db import release_session, utcnow
from ..extensions import db
from . import fields
from .models import Card, CardRevision, CardValue, RevisionKind

TEXT_KINDS = {"line", "markdown", "tags"}
TEXT_KEYS = [spec.key for spec in fields.FIELDS if spec.kind in TEXT_KINDS]


# Rendering Markdown (then sanitising it) is the dearest step of a commit. While people type, a text's HTML
# is rendered at most once every HTML_EVERY seconds; the last change is always rendered, HTML_EVERY later.
HTML_EVERY = 1.0
_RENDERED: dict[tuple[int, int, str], float] = {}  # (app, card, field): per app, as the live documents
_TRAILING: set[tuple[int, int, str]] = set()
_RENDER_LOCK = threading.Lock()


def _render_now(card_id: int, key: str) -> bool:
    if fields.SPECS[key].kind != "markdown":
        return True
    now = time.monotonic()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ident = (id(app), card_id, key)
    with _RENDER_LOCK:
        if now - _RENDERED.get(ident, 0.0) >= HTML_EVERY:
            _RENDERED[ident] = now
            return True
        if ident in _TRAILING:
            return False
        _TRAILING.add(ident)
    timer = threading.Timer(HTML_EVERY, _render_later, args=(app, card_id, key))
    timer.daemon = True
    timer.start()
    return False


def _render_later(app: Any, card_id: int, key: str) -> None:
    """Bring one text's HTML up to its source (only if the source is still the one rendered)."""
    with _RENDER_LOCK:
        _TRAILING.discard((id(app), card_id, key))
        _RENDERED[(id(app), card_id, key)] = time.monotonic()

    with app.app_context():
        try:
            live, _card = engine.open_doc(f"card:{card_id}", load=False)
        except Exception:  # noqa: BLE001 - the card is gone
            return
        with live.persist_lock:  # one writer per document and process (SQLite's busy wait is slow)
            _write_html(app, card_id, key)


def _write_html(app: Any, card_id: int, key: str) -> None:
    try:
        source = db.session.scalar(
            select(CardValue.value_source).where(CardValue.card_id == card_id, CardValue.key == key)
        )
        if source is not None:
            db.session.execute(
                update(CardValue)
                .where(CardValue.card_id == card_id, CardValue.key == key, CardValue.value_source == source)
                .values(value_html=fields.SPECS[key].html(source))
            )
            db.session.commit()
    except Exception:  # noqa: BLE001 - the next change renders it again
        app.logger.exception("rendering %s of card %s failed", key, card_id)
    finally:
        release_session()  # rolls back whatever is left


def limit_of(key: str) -> int:
    return fields.LINE_MAX if fields.SPECS[key].kind == "line" else fields.MARKDOWN_MAX


def doc_key(card: Card) -> str:
    return f"card:{card.id}"


class CardDoc(DocKind):
    name = "card"

    def load(self, ref_id: int) -> Card | None:
        return db.session.get(Card, ref_id)

    def can_view(self, user: Any, obj: Card) -> bool:
        return policy.can(user, "card.view", obj)

    def can_edit(self, user: Any, obj: Card) -> bool:
        return policy.can(user, "card.edit", obj)

    def limits(self, obj: Card) -> dict[str, int]:
        return {key: limit_of(key) for key in TEXT_KEYS}

    def initial_texts(self, obj: Card) -> dict[str, str]:
        rows = db.session.execute(
            select(CardValue.key, CardValue.value_source).where(
                CardValue.card_id == obj.id, CardValue.key.in_(TEXT_KEYS)
            )
        )
        return {key: value for key, value in rows}

    def materialise(self, obj: Card, changes: list[FieldChange], at: datetime) -> None:
        """A handful of statements per batch whatever its size: the last revision of each touched field in
        one query, the new revisions and audit entries inserted together, the value rows in one query."""
        keys = sorted({change.key for change in changes})
        newest = (
            select(CardRevision.field, func.max(CardRevision.number).label("number"))
            .where(CardRevision.card_id == obj.id, CardRevision.field.in_(keys))
            .group_by(CardRevision.field)
            .subquery()
        )
        last: dict[str, CardRevision] = {
            revision.field: revision
            for revision in db.session.scalars(
                select(CardRevision).join(
                    newest,
                    (CardRevision.field == newest.c.field)
                    & (CardRevision.number == newest.c.number)
                    & (CardRevision.card_id == obj.id),
                )
            )
        }
        final: dict[str, str] = {}
        with db.session.no_autoflush:
            for change in changes:
                spec = fields.SPECS[change.key]
                before, after = spec.clean(change.before), spec.clean(change.after)
                final[change.key] = after
                if before == after:
                    continue
                previous = last.get(change.key)
                if (
                    previous is not None
                    and not change.restore
                    and previous.kind == RevisionKind.EDIT
                    and extends(previous.author_id, previous.at, change.author_id, at)
                ):
                    previous.after, previous.at = after, at  # the author is still writing: it grows
                    continue
                obj.revision_no += 1
                kind = RevisionKind.RESTORE if change.restore else RevisionKind.EDIT
                revision = CardRevision(
                    card_id=obj.id,
                    number=obj.revision_no,
                    field=change.key,
                    before=before,
                    after=after,
                    kind=kind,
                    author_id=change.author_id,
                    at=at,
                    client_op_id=uuid.uuid4().hex,
                )
                db.session.add(revision)
                last[change.key] = revision
                audit.record(
                    SimpleNamespace(id=change.author_id),
                    "card.text_edited",
                    obj,
                    {"field": change.key, "revision": obj.revision_no, "kind": kind.value},
                )
            rows = {
                row.key: row
                for row in db.session.scalars(
                    select(CardValue).where(CardValue.card_id == obj.id, CardValue.key.in_(list(final)))
                )
            }
            for key, value in final.items():
                row = rows.get(key)
                if row is None:
                    row = CardValue(card_id=obj.id, key=key)
                    db.session.add(row)
                if row.value_source != value:
                    row.value_source = value
                    if _render_now(obj.id, key):
                        row.value_html = fields.SPECS[key].html(value)
                if key == "title":
                    obj.title = value or "Scheda senza titolo"
            obj.last_change_at = at
            obj.last_change_by_id = changes[-1].author_id


register(CardDoc())


def seed_text(card: Card, key: str, value: str, *, actor: Any) -> None:
    """Write a text before anyone has opened the card's document (demo, imports): the same revisions and
    audit as typing, and the document later starts from these rows. Once the document exists, text
    changes only through the engine (`engine.replace_text`), so the two never diverge."""
    if db.session.scalar(select(CoDoc.id).where(CoDoc.kind == "card", CoDoc.ref_id == card.id)) is not None:
        raise RuntimeError("the card is co-written already: use coedit.engine.replace_text")
    current = db.session.scalar(
        select(CardValue.value_source).where(CardValue.card_id == card.id, CardValue.key == key)
    )
    CardDoc().materialise(card, [FieldChange(key, actor.id, current or "", value)], utcnow())
