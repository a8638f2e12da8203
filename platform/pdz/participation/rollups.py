"""Write side of the participation rollups: mark the (tavolo, month) buckets a flush changes as stale.

One SQLAlchemy `after_flush` hook, in the transaction of the change: whatever service writes an attendance,
a meeting, an action, a card revision, a comment, a SWOT revision or a membership, the buckets it touches
are marked in `participation_stale` (INSERT ... ON CONFLICT DO NOTHING, so concurrent writers never fail on
the key). Readers recompute only marked buckets (queries.refresh). Rows written with bulk Core statements
bypass the hook: whoever does that (a data import, bench/scale.py) calls `mark_all()`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..cards.models import Card, CardRevision
from ..comments.models import Comment
from ..evaluation.models import SwotAssessment, SwotEntry, SwotEntryRevision
from ..formatting import ROME
from ..meetings.models import ActionItem, Attendance, Meeting
from ..tavoli.models import Body, Membership
from .models import ALL_MONTHS, ParticipationStale


def month_of(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(ROME).strftime("%Y-%m")


def _old_and_new(obj: Any, attr: str) -> list[Any]:
    """The attribute's value now and, if this flush changed it, before."""
    history = inspect(obj).attrs[attr].history
    values = [getattr(obj, attr)]
    values += list(history.deleted or ())
    return values


def _changed(obj: Any, *attrs: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


def _collect(session: Session) -> set[tuple[int, str]]:  # noqa: C901 - one branch per model

    marks: set[tuple[int, str]] = set()
    meeting_ids: set[int] = set()
    action_meetings: list[tuple[int, list[str]]] = []
    card_months: list[tuple[int, str]] = []
    entry_months: list[tuple[int, str]] = []
    objects = [(o, False) for o in session.new] + [(o, True) for o in session.dirty]
    objects += [(o, False) for o in session.deleted]
    for obj, dirty in objects:
        if isinstance(obj, Attendance):
            meeting_ids.update(m for m in _old_and_new(obj, "meeting_id") if m is not None)
        elif isinstance(obj, Meeting):
            if dirty and not _changed(obj, "status", "starts_at", "body_id"):
                continue
            for body_id in _old_and_new(obj, "body_id"):
                for when in _old_and_new(obj, "starts_at"):
                    month = month_of(when)
                    if body_id is not None and month:
                        marks.add((body_id, month))
        elif isinstance(obj, ActionItem):
            if dirty and not _changed(obj, "status", "completed_at", "organisation_id", "meeting_id"):
                continue
            months = [m for m in (month_of(w) for w in _old_and_new(obj, "completed_at")) if m]
            action_meetings += [(m, months) for m in _old_and_new(obj, "meeting_id") if m is not None]
        elif isinstance(obj, CardRevision):
            month = month_of(obj.at)
            if obj.card_id is not None and month:
                card_months.append((obj.card_id, month))
        elif isinstance(obj, Card):
            if not dirty or _changed(obj, "body_id"):
                marks.update((b, ALL_MONTHS) for b in _old_and_new(obj, "body_id") if b is not None)
        elif isinstance(obj, Comment):
            if dirty and not _changed(obj, "status", "body_id"):
                continue
            month = month_of(obj.created_at)
            marks.update((b, month) for b in _old_and_new(obj, "body_id") if b is not None and month)
        elif isinstance(obj, SwotEntryRevision):
            month = month_of(obj.at)
            if obj.entry_id is not None and month:
                entry_months.append((obj.entry_id, month))
        elif isinstance(obj, Membership):
            if dirty and not _changed(obj, "organisation_id", "body_id", "user_id"):
                continue
            marks.update((b, ALL_MONTHS) for b in _old_and_new(obj, "body_id") if b is not None)
    connection = session.connection()
    action_ids = {m for m, _months in action_meetings}
    if meeting_ids or action_ids:
        rows = connection.execute(
            select(Meeting.id, Meeting.body_id, Meeting.starts_at).where(
                Meeting.id.in_(meeting_ids | action_ids)
            )
        ).all()
        found = {i: (b, s) for i, b, s in rows}
        for meeting_id in meeting_ids:
            if meeting_id in found:
                body_id, starts_at = found[meeting_id]
                marks.add((body_id, month_of(starts_at) or ALL_MONTHS))
        for meeting_id, months in action_meetings:
            if meeting_id in found:
                marks.update((found[meeting_id][0], m) for m in months)
    if card_months:
        bodies = dict(
            connection.execute(
                select(Card.id, Card.body_id).where(Card.id.in_({c for c, _m in card_months}))
            ).all()
        )
        marks.update((bodies[c], m) for c, m in card_months if c in bodies)
    if entry_months:
        bodies = dict(
            connection.execute(
                select(SwotEntry.id, SwotAssessment.body_id)
                .join(SwotAssessment, SwotAssessment.id == SwotEntry.assessment_id)
                .where(SwotEntry.id.in_({e for e, _m in entry_months}))
            ).all()
        )
        marks.update((bodies[e], m) for e, m in entry_months if e in bodies)
    return marks


def _insert_marks(connection: Any, marks: set[tuple[int, str]]) -> None:
    if not marks:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(ParticipationStale)
        .values([{"body_id": b, "month": m} for b, m in sorted(marks)])
        .on_conflict_do_nothing(index_elements=["body_id", "month"])
    )


@event.listens_for(Session, "after_flush")
def _mark_stale(session: Session, _context: Any) -> None:
    if not (session.new or session.dirty or session.deleted):
        return
    marks = _collect(session)
    if marks:
        _insert_marks(session.connection(), marks)


def mark_all(session: Session) -> None:
    """Mark every body's whole history stale (after rows were written around the ORM, e.g. bulk imports)."""
    ids = session.scalars(select(Body.id)).all()
    _insert_marks(session.connection(), {(i, ALL_MONTHS) for i in ids})
