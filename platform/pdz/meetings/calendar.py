"""The personal calendar: the feed (a secret address per person, replaced or revoked by its owner) and the
month view."""

from __future__ import annotations

import secrets
from calendar import Calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..accounts.models import User
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..formatting import ROME, local
from .models import CalendarFeed, Meeting


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


# --- month view ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    meetings: list[Meeting]


def parse_month(value: str | None, today: date) -> date:
    """`AAAA-MM` (from the month view's links) to the first day of that month; nothing -> this month."""
    if not value:
        return today.replace(day=1)
    try:
        first = datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        first = None
    if first is None or not 2000 <= first.year <= 2100:
        raise Invalid(_("Mese non valido: scegli un mese dal calendario (ad esempio 2026-12)."))
    return first


def shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """The month in Europe/Rome, as UTC instants [start, end)."""
    start = datetime.combine(first, time(0), tzinfo=ROME)
    end = datetime.combine(shift_month(first, 1), time(0), tzinfo=ROME)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_weeks(first: date, meetings: list[Meeting]) -> list[list[Day]]:
    """Monday-first weeks covering the month; each day with its meetings (by Rome date, in time order)."""
    by_day: dict[date, list[Meeting]] = {}
    for meeting in sorted(meetings, key=lambda m: m.starts_at):
        by_day.setdefault(local(meeting.starts_at).date(), []).append(meeting)
    return [
        [
            Day(day, day.month == first.month, by_day.get(day, []) if day.month == first.month else [])
            for day in week
        ]
        for week in Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
