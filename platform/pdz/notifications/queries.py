"""Read side of the notification centre."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..accounts.models import User
from ..extensions import db
from ..tavoli.models import Membership
from .models import Notification

PAGE_SIZE = 100


def _readable(user: User) -> list[Any]:
    """Only notifications about tavoli the person may still read (someone who left sees none of theirs)."""
    conditions: list[Any] = [Notification.user_id == user.id]
    if not user.is_udp:
        mine = select(Membership.body_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        conditions.append(Notification.body_id.in_(mine))
    return conditions


def latest(user: User, limit: int = PAGE_SIZE) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(*_readable(user)).order_by(Notification.id.desc()).limit(limit)
        )
    )


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(*_readable(user), Notification.read_at.is_(None))
        )
        or 0
    )
