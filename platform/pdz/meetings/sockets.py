"""Socket.IO room `meeting:<id>`: whoever may view the meeting follows it live."""

from __future__ import annotations

from typing import Any

from .. import policy
from ..extensions import db
from ..sockets import room_rule
from .models import Meeting


@room_rule("meeting")
def _meeting_room(user: Any, ident: int) -> bool:
    meeting = db.session.get(Meeting, ident)
    return meeting is not None and policy.can(user, "meeting.view", meeting)
