"""Comment threads on a card: one on the whole card and one beside each scalar field of the card page
(registered with `comments.targets`; imported by `cards.views`, so every app knows the kind)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..comments.targets import register
from ..extensions import db
from .fields import FIELDS
from .models import Card


def _load_card(ident: int) -> Any:
    return db.session.get(Card, ident)


register(
    "card",
    load=_load_card,
    body_of=lambda card: card.body,
    url_of=lambda card: url_for("cards.detail", card_id=card.id),
    label=lambda card: card.title,
    fields=frozenset(spec.key for spec in FIELDS),
)
