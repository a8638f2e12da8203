"""Comment threads on a meeting agenda item, on the meeting page (registered with `comments.targets`;
imported by `meetings.views`, so every app knows the kind). Readers are those of the meeting's body."""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..comments.targets import register
from ..extensions import db
from .models import AgendaItem


def _load_agenda_item(ident: int) -> Any:
    return db.session.get(AgendaItem, ident)


register(
    "meeting_item",
    load=_load_agenda_item,
    body_of=lambda item: item.meeting.body,
    url_of=lambda item: url_for("meetings.detail", meeting_id=item.meeting_id),
    label=lambda item: f"{item.meeting.title} – {item.title}",
)
