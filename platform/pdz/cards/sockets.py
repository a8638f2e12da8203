"""The card room (`card:<id>`): structured changes (choices, rows, totals) arrive there as live events.
Co-written text and presence go through the co-writing engine (`pdz.coedit`)."""

from __future__ import annotations

from typing import Any

from .. import policy
from ..extensions import db
from ..sockets import room_rule
from .models import Card


@room_rule("card")
def _card_room(user: Any, ident: int) -> bool:
    card = db.session.get(Card, ident)
    return card is not None and policy.can(user, "card.view", card)
