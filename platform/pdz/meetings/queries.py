"""Read side of meetings: pages load in a bounded number of queries; participation figures are SQL aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import and_, case, func, not_, or_, select, union
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..cards.models import Card
from ..db import utcnow
from ..extensions import db
from ..tavoli.models import Body, Membership
from .models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Rsvp,
)


def meeting_page(meeting_id: int) -> Meeting | None:
    return db.session.scalar(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            # many-to-one relations joined into their parent's query instead of one query each
            joinedload(Meeting.body),
            selectinload(Meeting.items).selectinload(AgendaItem.cards).joinedload(Card.area),
            selectinload(Meeting.attendances).joinedload(Attendance.user),
            selectinload(Meeting.attendances).joinedload(Attendance.organisation),
            selectinload(Meeting.attendances).joinedload(Attendance.stands_for),
            selectinload(Meeting.rsvps).joinedload(Rsvp.user),
            selectinload(Meeting.rsvps).joinedload(Rsvp.delegate),
            selectinload(Meeting.decisions),
            selectinload(Meeting.actions).joinedload(ActionItem.owner),
            selectinload(Meeting.actions).joinedload(ActionItem.organisation),
            joinedload(Meeting.approved_in),
        )
    )


PAST_PAGE = 30  # past meetings a page on a body's meetings list


class PastMeetings(list[Meeting]):
    """One page of a body's past meetings, newest first: `page` (1-based), `pages`, `total`, and `rates`
    (attendance of this page's concluded meetings, by meeting id)."""

    page: int = 1
    pages: int = 1
    total: int = 0
    rates: dict[int, Rate]


def _requested_page() -> int:
    raw = request.args.get("pagina", "1") if has_request_context() else "1"
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def body_meetings(body: Body, page: int | None = None) -> tuple[list[Meeting], PastMeetings]:
    """(upcoming, past) meetings of a body; drafts included (the page hides them from who cannot manage).
    Upcoming: every meeting not concluded that has not ended yet. Past: the others, newest first, one page
    (`page`, default `?pagina=`) of PAST_PAGE; a body collects hundreds over the years."""
    now = utcnow()
    is_upcoming = and_(Meeting.ends_at >= now, Meeting.status != MeetingStatus.CONCLUDED)
    upcoming = list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.body_id == body.id, is_upcoming)
            .options(selectinload(Meeting.items))
            .order_by(Meeting.starts_at)
        )
    )
    is_past = and_(Meeting.body_id == body.id, not_(is_upcoming))
    total = db.session.scalar(select(func.count()).select_from(Meeting).where(is_past)) or 0
    past = PastMeetings()
    past.total, past.pages = total, max(1, -(-total // PAST_PAGE))
    past.page = min(max(1, page or _requested_page()), past.pages)
    past.extend(
        db.session.scalars(
            select(Meeting)
            .where(is_past)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(PAST_PAGE)
            .offset((past.page - 1) * PAST_PAGE)
        )
    )
    past.rates = {r.key: r for r in rates_by_meeting(body.id, [m.id for m in past])}
    return upcoming, past


def _my_body_ids(user: User) -> Any:
    return select(Membership.body_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))


def my_meetings(user: User, *, upcoming_only: bool = False, limit: int | None = None) -> list[Meeting]:
    """Published meetings of the bodies I sit in, or where someone delegated me."""
    if upcoming_only:
        # The same rows as below, but each branch through its own index (body, status, start / the
        # delegate's answers): an OR of the two subqueries made the database read every meeting.
        live = [MeetingStatus.CONVENED, MeetingStatus.IN_PROGRESS]
        now = utcnow()
        mine = (  # a join, not `body_id IN (subquery)`: SQLite then seeks (body, status) instead of scanning
            select(Meeting.id)
            .join(Membership, Membership.body_id == Meeting.body_id)
            .where(
                Membership.user_id == user.id,
                Membership.ended_at.is_(None),
                Meeting.status.in_(live),
                Meeting.ends_at >= now,
            )
        )
        delegated = select(Rsvp.meeting_id).where(Rsvp.delegate_id == user.id)
        upcoming = (
            select(Meeting)
            .where(Meeting.id.in_(union(mine, delegated)), Meeting.status.in_(live), Meeting.ends_at >= now)
            .options(joinedload(Meeting.body))
            .order_by(Meeting.starts_at)
        )
        return list(db.session.scalars(upcoming.limit(limit) if limit else upcoming))
    stmt = (
        select(Meeting)
        .where(
            Meeting.status != MeetingStatus.DRAFT,
            or_(
                Meeting.body_id.in_(_my_body_ids(user)),
                Meeting.id.in_(select(Rsvp.meeting_id).where(Rsvp.delegate_id == user.id)),
            ),
        )
        .options(selectinload(Meeting.body))
    )
    if upcoming_only:
        stmt = stmt.where(
            Meeting.ends_at >= utcnow(),
            Meeting.status.in_([MeetingStatus.CONVENED, MeetingStatus.IN_PROGRESS]),
        ).order_by(Meeting.starts_at)
    else:
        stmt = stmt.order_by(Meeting.starts_at.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def feed_meetings(user: User) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.status != MeetingStatus.DRAFT,
                or_(
                    Meeting.body_id.in_(_my_body_ids(user)),
                    Meeting.id.in_(select(Rsvp.meeting_id).where(Rsvp.delegate_id == user.id)),
                ),
            )
            .options(selectinload(Meeting.body), selectinload(Meeting.items))
            .order_by(Meeting.starts_at)
        )
    )


def my_answers(user: User, meetings: list[Meeting]) -> dict[int, Rsvp]:
    if not meetings:
        return {}
    rows = db.session.scalars(
        select(Rsvp).where(Rsvp.user_id == user.id, Rsvp.meeting_id.in_([m.id for m in meetings]))
    )
    return {r.meeting_id: r for r in rows}


def open_actions(*, body: Body | None = None, owner: User | None = None) -> list[ActionItem]:
    stmt = (
        select(ActionItem)
        .join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.status == ActionStatus.OPEN)
        .options(
            # many-to-one, joined into the same query (one query instead of four)
            joinedload(ActionItem.owner),
            joinedload(ActionItem.organisation),
            joinedload(ActionItem.meeting).joinedload(Meeting.body),
        )
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
    )
    if body is not None:
        stmt = stmt.where(Meeting.body_id == body.id)
    if owner is not None:
        stmt = stmt.where(ActionItem.owner_id == owner.id)
    return list(db.session.scalars(stmt))


def item_titles(meeting: Meeting) -> dict[int, AgendaItem]:
    return {i.id: i for i in meeting.items}


# --- attendance of the body's meetings (the participation dashboard has the per-organisation figures) ----
# Only concluded meetings count. A person's row counts as attended when present or represented by a
# delegate.

_ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.REPRESENTED)


@dataclass(frozen=True)
class Rate:
    key: int
    label: str
    attended: int
    expected: int

    @property
    def rate(self) -> float:
        return self.attended / self.expected if self.expected else 0.0


def _attended_sum() -> Any:
    return func.sum(case((Attendance.status.in_(_ATTENDED), 1), else_=0))


def rates_by_meeting(body_id: int, meeting_ids: list[int] | None = None) -> list[Rate]:
    """Attendance of the body's concluded meetings (only `meeting_ids` when given)."""
    stmt = (
        select(Meeting.id, Meeting.title, _attended_sum(), func.count(Attendance.id))
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(
            Meeting.status == MeetingStatus.CONCLUDED,
            Meeting.body_id == body_id,
            Attendance.stands_for_id.is_(None),
            *([Meeting.id.in_(meeting_ids)] if meeting_ids is not None else []),
        )
        .group_by(Meeting.id, Meeting.title, Meeting.starts_at)
        .order_by(Meeting.starts_at)
    )
    return [Rate(i, t, int(a or 0), int(n)) for i, t, a, n in db.session.execute(stmt)]


def month_meetings(user: User, start: datetime, end: datetime) -> list[Meeting]:
    """The month view: meetings starting in [start, end) of the bodies I sit in (drafts too: their agenda is
    being drafted together) or where someone delegated me, with their bodies, in one query plus one."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
                or_(
                    Meeting.body_id.in_(_my_body_ids(user)),
                    Meeting.id.in_(select(Rsvp.meeting_id).where(Rsvp.delegate_id == user.id)),
                ),
                or_(Meeting.status != MeetingStatus.DRAFT, Meeting.body_id.in_(_my_body_ids(user))),
            )
            .options(selectinload(Meeting.body))
            .order_by(Meeting.starts_at)
        )
    )
