"""A SWOT self-evaluation as one co-written document: the text of each entry is a `Y.Text` keyed `entry:<id>`.

Adding and removing entries (dimension, quadrant, themes) stay structured actions in `services`; only the text
of the entries goes through the co-writing engine. A closed SWOT is read-only for everyone.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from .. import audit, policy
from ..coedit import DocKind, FieldChange, register
from ..coedit.registry import extends
from ..extensions import db
from ..inputs import positive_id
from ..text import render_markdown
from .models import SwotAssessment, SwotEntry, SwotEntryRevision
from .services import MAX_ENTRY

PREFIX = "entry:"


def doc_key(assessment: SwotAssessment) -> str:
    return f"swot:{assessment.id}"


def entry_key(entry: SwotEntry) -> str:
    return f"{PREFIX}{entry.id}"


def _entry_id(key: str) -> int | None:
    ident = key.removeprefix(PREFIX)
    return positive_id(ident) if key.startswith(PREFIX) else None


class SwotDoc(DocKind):
    name = "swot"

    def load(self, ref_id: int) -> SwotAssessment | None:
        return db.session.get(SwotAssessment, ref_id)

    def can_view(self, user: Any, obj: SwotAssessment) -> bool:
        return policy.can(user, "swot.view", obj)

    def can_edit(self, user: Any, obj: SwotAssessment) -> bool:
        return obj.is_open and policy.can(user, "swot.write", obj)  # closed: read-only for everyone

    def writable(self, obj: SwotAssessment) -> bool:
        return bool(obj.is_open)

    def limits(self, obj: SwotAssessment) -> dict[str, int]:
        return {entry_key(entry): MAX_ENTRY for entry in obj.entries}

    def accepts_key(self, obj: SwotAssessment, key: str) -> int | None:
        entry_id = _entry_id(key)
        entry = db.session.get(SwotEntry, entry_id) if entry_id is not None else None
        if entry is None or entry.assessment_id != obj.id or entry.removed_at is not None:
            return None
        return MAX_ENTRY

    def initial_texts(self, obj: SwotAssessment) -> dict[str, str]:
        return {entry_key(entry): entry.text_source for entry in obj.entries}

    def materialise(self, obj: SwotAssessment, changes: list[FieldChange], at: datetime) -> None:
        for change in changes:
            entry_id = _entry_id(change.key)
            entry = db.session.get(SwotEntry, entry_id) if entry_id is not None else None
            if entry is None or entry.assessment_id != obj.id:
                continue
            text = change.after.strip()
            if text == entry.text_source:
                continue
            entry.text_source, entry.text_html = text, str(render_markdown(text))
            author_id = change.author_id if change.author_id is not None else entry.author_id
            last = db.session.scalar(
                select(SwotEntryRevision)
                .where(SwotEntryRevision.entry_id == entry.id)
                .order_by(SwotEntryRevision.version.desc())
                .limit(1)
            )
            if last is not None and not change.restore and extends(last.author_id, last.at, author_id, at):
                last.text, last.at = text, at  # the author is still writing: the same revision grows
                continue
            entry.version += 1
            db.session.add(
                SwotEntryRevision(
                    entry_id=entry.id, version=entry.version, text=text, author_id=author_id, at=at
                )
            )
            audit.record(
                SimpleNamespace(id=author_id),
                "swot.entry_edited",
                entry,
                {"assessment_id": obj.id, "version": entry.version},
            )


register(SwotDoc())
