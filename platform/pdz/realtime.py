"""Live events: written as rows in the transaction that causes them, emitted only after it commits.

The database is the source of truth (replay after a reconnect); Socket.IO (through Redis when PDZ_REDIS_URL
is set) is the best-effort fast path.

**Commit order.** A row's `id` is given when its transaction flushes, not when it commits: with concurrent
writers (PostgreSQL), id 966 can commit, reach a page and be "the last event seen" before id 965 commits,
and a page asking for "events after 966" would never get 965. So every event also gets a `position` at
commit time, under a lock held until the commit ends (an advisory transaction lock on PostgreSQL; SQLite
already serialises writers): positions are given in commit order, a transaction that commits later always
gets larger ones, and an event is visible before any later position is given. Pages only ever see
positions (the `id` of a message is its position), and catch-up asks for positions after the last one seen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, event, func, select, text, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from .db import Base, on_commit, utcnow
from .extensions import db, socketio

REPLAY_LIMIT = 500
_LOCK_KEY = 0x70647A6C  # "pdzl": the advisory lock that orders the commits of live events


class LiveEvent(Base):
    __tablename__ = "live_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    # commit order (see the module's docstring); empty only while the transaction is still open
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    room: Mapped[str] = mapped_column(String(60), index=True)
    name: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def as_message(self) -> dict[str, Any]:
        return {"id": self.position, "room": self.room, "name": self.name, **self.payload}


def publish_after_commit(room: str, name: str, payload: dict[str, Any], *, session: Any = None) -> LiveEvent:
    """Write the event in this transaction; send it once the transaction has committed (with its position)."""
    session = session if session is not None else db.session()
    live_event = LiveEvent(room=room, name=name, payload=payload)
    session.add(live_event)
    session.flush()
    pending = session.info.setdefault("pdz_live_events", [])
    message: dict[str, Any] = {"room": room, "name": name, **payload}
    pending.append((live_event, message))
    on_commit(session, lambda: socketio.emit(name, message, to=room))
    return live_event


def _position_events(session: Any) -> None:
    """Before the commit: take the ordering lock, then give this transaction's events their positions."""
    if session.in_nested_transaction():
        return
    if not session.info.get("pdz_live_events"):
        return
    # Write every pending change first, so the ordering lock is always the last lock a transaction takes:
    # a row flushed after it could be held by another transaction that waits for the lock (a deadlock).
    session.flush()
    pending = session.info.pop("pdz_live_events", None)
    if not pending:
        return
    pending = [(e, m) for e, m in pending if e.id is not None and e.position is None]
    if not pending:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = connection.execute(select(func.coalesce(func.max(LiveEvent.position), 0))).scalar_one()
    for offset, (live_event, message) in enumerate(sorted(pending, key=lambda p: p[0].id), start=1):
        connection.execute(
            update(LiveEvent).where(LiveEvent.id == live_event.id).values(position=last + offset)
        )
        set_committed_value(live_event, "position", last + offset)  # in memory too, without a second UPDATE
        message["id"] = last + offset


def install(session_class: Any) -> None:
    if not event.contains(session_class, "before_commit", _position_events):
        event.listen(session_class, "before_commit", _position_events)


def last_event_id(room: str) -> int:
    """The last position published in `room` (a page starts following from there)."""
    return (
        db.session.scalar(
            select(func.coalesce(func.max(LiveEvent.position), 0)).where(LiveEvent.room == room)
        )
        or 0
    )


def events_since(rooms: list[str], after_id: int, limit: int = REPLAY_LIMIT) -> list[dict[str, Any]]:
    """The events of `rooms` committed after position `after_id`, in commit order."""
    return replay(rooms, after_id, limit)[0]


def replay(rooms: list[str], after_id: int, limit: int = REPLAY_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The events of `rooms` after position `after_id`, and `as_of`: the answer holds every event of those
    rooms up to that position. Positions are given under a lock held until the commit, so every position up to
    the largest one visible is committed: a page that keeps `as_of` and asks from it next time never misses an
    event, even one whose live message was lost (message queue down, a process killed after its commit)."""
    as_of = db.session.scalar(select(func.coalesce(func.max(LiveEvent.position), 0))) or 0
    rows = list(
        db.session.scalars(
            select(LiveEvent)
            .where(LiveEvent.room.in_(rooms), LiveEvent.position > after_id, LiveEvent.position <= as_of)
            .order_by(LiveEvent.position)
            .limit(limit)
        )
    )
    if len(rows) == limit:  # more to come: complete only up to the last one given
        as_of = int(rows[-1].position or after_id)
    return [row.as_message() for row in rows], max(int(as_of), after_id)
