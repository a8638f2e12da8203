"""Live events: written as rows in the transaction that causes them, emitted only after it commits.

The database is the source of truth (increasing ids, replay after a reconnect); Socket.IO (through Redis
when PDZ_REDIS_URL is set) is the best-effort fast path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, on_commit, utcnow
from .extensions import db, socketio

REPLAY_LIMIT = 500


class LiveEvent(Base):
    __tablename__ = "live_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    room: Mapped[str] = mapped_column(String(60), index=True)
    name: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def as_message(self) -> dict[str, Any]:
        return {"id": self.id, "room": self.room, "name": self.name, **self.payload}


def publish_after_commit(room: str, name: str, payload: dict[str, Any]) -> LiveEvent:
    event = LiveEvent(room=room, name=name, payload=payload)
    db.session.add(event)
    db.session.flush()
    message = event.as_message()
    on_commit(db.session, lambda: socketio.emit(name, message, to=room))
    return event


def last_event_id(room: str) -> int:
    return (
        db.session.scalar(select(func.coalesce(func.max(LiveEvent.id), 0)).where(LiveEvent.room == room)) or 0
    )


def events_since(rooms: list[str], after_id: int, limit: int = REPLAY_LIMIT) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(LiveEvent)
        .where(LiveEvent.room.in_(rooms), LiveEvent.id > after_id)
        .order_by(LiveEvent.id)
        .limit(limit)
    )
    return [row.as_message() for row in rows]
