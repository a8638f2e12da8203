"""The minutes of a meeting as one co-written document (`minutes:<meeting id>`).

Keys: `item:<agenda item id>`, the Markdown minutes of each agenda item, and `decision:<decision id>`, the text of
each decision. Adding a decision or an action is a structured form (`minutes`); only the text goes through the
engine. The plain text is written back into `agenda_items` / `meeting_decisions` inside the engine's commit, with
`MinutesRevision` rows grouped by author and pause.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from .. import audit, policy
from ..audit import AuditEntry
from ..coedit import DocKind, FieldChange, register
from ..coedit.registry import extends
from ..extensions import db
from ..inputs import positive_id
from ..realtime import publish_after_commit
from ..text import render_markdown
from . import common, minutes
from .models import AgendaItem, Decision, Meeting, MinutesRevision

ITEM_LIMIT = minutes.MAX_MINUTES_CHARS
DECISION_LIMIT = minutes.MAX_DECISION_CHARS


def doc_key(meeting: Meeting) -> str:
    return minutes.minutes_doc(meeting)


def _split(key: str) -> tuple[str, int] | None:
    prefix, _sep, ident = key.partition(":")
    number = positive_id(ident)
    if prefix not in ("item", "decision") or number is None:
        return None
    return prefix, number


class MinutesDoc(DocKind):
    name = "minutes"

    def load(self, ref_id: int) -> Meeting | None:
        return db.session.get(Meeting, ref_id)

    def can_view(self, user: Any, obj: Meeting) -> bool:
        return policy.can(user, "meeting.view", obj)

    def can_edit(self, user: Any, obj: Meeting) -> bool:
        return minutes.minutes_writable(obj) and policy.can(user, "meeting.minutes.write", obj)

    def writable(self, obj: Meeting) -> bool:
        return minutes.minutes_writable(obj)

    def limits(self, obj: Meeting) -> dict[str, int]:
        keys = {f"item:{item.id}": ITEM_LIMIT for item in obj.items}
        keys.update({f"decision:{decision_id}": DECISION_LIMIT for decision_id in self._decision_ids(obj)})
        return keys

    def accepts_key(self, obj: Meeting, key: str) -> int | None:
        parsed = _split(key)
        if parsed is None:
            return None
        prefix, ident = parsed
        if prefix == "item":
            return ITEM_LIMIT if any(item.id == ident for item in obj.items) else None
        return DECISION_LIMIT if ident in self._decision_ids(obj) else None

    def _decision_ids(self, obj: Meeting) -> set[int]:
        return set(db.session.scalars(select(Decision.id).where(Decision.meeting_id == obj.id)))

    def initial_texts(self, obj: Meeting) -> dict[str, str]:
        texts = {f"item:{item.id}": item.minutes_source for item in obj.items}
        rows = db.session.execute(select(Decision.id, Decision.text).where(Decision.meeting_id == obj.id))
        texts.update({f"decision:{decision_id}": text for decision_id, text in rows})
        return texts

    def materialise(self, obj: Meeting, changes: list[FieldChange], at: datetime) -> None:
        items = {item.id: item for item in obj.items}
        touched: dict[int, AgendaItem] = {}
        for change in changes:
            parsed = _split(change.key)
            if parsed is None or change.before == change.after:
                continue
            prefix, ident = parsed
            if prefix == "item" and ident in items:
                item = items[ident]
                self._item_revision(obj, item, change, at)
                item.minutes_source = change.after
                touched[item.id] = item
            elif prefix == "decision":
                decision = db.session.get(Decision, ident)
                if decision is not None and decision.meeting_id == obj.id:
                    self._decision_text(obj, decision, change, at)
        for item in touched.values():
            item.minutes_html = str(render_markdown(item.minutes_source))

    def _item_revision(self, meeting: Meeting, item: AgendaItem, change: FieldChange, at: datetime) -> None:
        """The author's open revision grows while they keep writing; otherwise a new numbered revision."""
        last = db.session.scalar(
            select(MinutesRevision)
            .where(MinutesRevision.item_id == item.id)
            .order_by(MinutesRevision.number.desc())
            .limit(1)
        )
        if last is not None and not change.restore and extends(last.author_id, last.at, change.author_id, at):
            last.text, last.at = change.after, at
            return
        assert change.author_id is not None  # the engine accepts updates from signed-in people only
        item.minutes_rev += 1
        db.session.add(
            MinutesRevision(
                item_id=item.id,
                number=item.minutes_rev,
                text=change.after,
                op_id=uuid.uuid4().hex,  # kept from the old HTTP saves: unique per revision
                author_id=change.author_id,
                at=at,
            )
        )
        audit.record(
            SimpleNamespace(id=change.author_id),
            "meeting.minutes_saved",
            meeting,
            {"item_id": item.id, "rev": item.minutes_rev},
        )
        publish_after_commit(
            common.room(meeting),
            "meeting.minutes_changed",
            {"meeting_id": meeting.id, "item_id": item.id, "what": "text"},
        )

    def _decision_text(self, meeting: Meeting, decision: Decision, change: FieldChange, at: datetime) -> None:
        """Decisions keep no revisions: the text is written and one audit entry marks each author's run."""
        if decision.text == change.after:
            return  # the text the decision was registered with, now in the document: nothing changed
        decision.text = change.after
        last = db.session.scalar(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == Meeting.__tablename__,
                AuditEntry.object_id == meeting.id,
                AuditEntry.action == "meeting.decision_edited",
            )
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        if (
            last is not None
            and (last.details or {}).get("decision_id") == decision.id
            and extends(last.actor_id, last.at, change.author_id, at)
        ):
            return
        audit.record(
            SimpleNamespace(id=change.author_id),
            "meeting.decision_edited",
            meeting,
            {"decision_id": decision.id},
        )
        publish_after_commit(
            common.room(meeting),
            "meeting.minutes_changed",
            {"meeting_id": meeting.id, "decision_id": decision.id, "what": "text"},
        )


KIND = register(MinutesDoc())
