"""The personal calendar feed: a secret address per person, replaced or revoked by its owner."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from .. import audit
from ..accounts.models import User
from ..db import utcnow
from ..extensions import db
from .models import CalendarFeed


def calendar_feed(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def reset_calendar_feed(*, actor: User) -> CalendarFeed:
    """A new secret address; the old one stops working at once."""
    feed = calendar_feed(actor)
    if feed is None:
        feed = CalendarFeed(user_id=actor.id, token=secrets.token_urlsafe(32))
        db.session.add(feed)
    else:
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = utcnow()
    db.session.flush()
    audit.record(actor, "calendar.reset", feed)
    return feed


def revoke_calendar_feed(*, actor: User) -> None:
    feed = calendar_feed(actor)
    if feed is not None:
        audit.record(actor, "calendar.revoked", feed)
        db.session.delete(feed)
        db.session.flush()
