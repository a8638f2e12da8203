"""Threads on the objects of other domains: a card (and each of its fields), a meeting agenda item, a SWOT entry.

Imported at the bottom of `targets.py`, so every process that can resolve a target knows these kinds.
Each target's readers are the readers of its body (`card.view`, the meeting's body view, `swot.view` all
come down to `tavolo.view` on that body), so threads keep the tavolo's room and rules.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..extensions import db
from .targets import register


def _load_card(ident: int) -> Any:
    from ..cards.models import Card

    return db.session.get(Card, ident)


def _card_fields() -> frozenset[str]:
    from ..cards.fields import FIELDS

    return frozenset(spec.key for spec in FIELDS)


# A thread on the whole card and one beside each scalar field of the card page.
register(
    "card",
    load=_load_card,
    body_of=lambda card: card.body,
    url_of=lambda card: url_for("cards.detail", card_id=card.id),
    label=lambda card: card.title,
    fields=_card_fields(),
)


def _load_agenda_item(ident: int) -> Any:
    from ..meetings.models import AgendaItem

    return db.session.get(AgendaItem, ident)


# One thread per agenda item, on the meeting page.
register(
    "meeting_item",
    load=_load_agenda_item,
    body_of=lambda item: item.meeting.body,
    url_of=lambda item: url_for("meetings.detail", meeting_id=item.meeting_id),
    label=lambda item: f"{item.meeting.title} – {item.title}",
)


def _load_swot_entry(ident: int) -> Any:
    from ..evaluation.models import SwotEntry

    entry = db.session.get(SwotEntry, ident)
    return entry if entry is not None and entry.removed_at is None else None


def _swot_url(entry: Any) -> str:
    assessment = entry.assessment
    return url_for("evaluation.swot", assessment_id=assessment.id)


# One thread per SWOT entry, behind a small toggle on the SWOT page.
register(
    "swot_entry",
    load=_load_swot_entry,
    body_of=lambda entry: entry.assessment.body,
    url_of=_swot_url,
    label=lambda entry: _short(entry.text_source),
)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
