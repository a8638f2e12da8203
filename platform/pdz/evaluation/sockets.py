"""Live SWOT co-writing: the room `swot:<id>` is open to whoever may read the assessment."""

from __future__ import annotations

from typing import Any

from .. import policy
from ..extensions import db
from ..sockets import room_rule
from .models import SwotAssessment


@room_rule("swot")
def _swot_room(user: Any, ident: int) -> bool:
    assessment = db.session.get(SwotAssessment, ident)
    return assessment is not None and policy.can(user, "swot.view", assessment)
