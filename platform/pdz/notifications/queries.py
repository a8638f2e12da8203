"""Read side of the notification centre."""

from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import User
from ..extensions import db
from .models import Notification

PAGE_SIZE = 100


def latest(user: User, limit: int = PAGE_SIZE) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
        )
    )
