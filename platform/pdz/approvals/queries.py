"""Read side of the approval chain: pages, rounds, the "Da fare" list, the public list, approved cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import defer, selectinload

from .. import policy
from ..accounts.models import User
from ..cards.queries import word_diff
from ..cycles.models import CycleStatus, PlanningCycle
from ..extensions import db
from ..meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
from ..tavoli.models import COORDINATOR_ROLES, Membership
from . import document as doc
from . import services
from .models import (
    Ballot,
    BallotStatus,
    DocKind,
    PlanDocument,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    Vote,
)


def submission_page(submission_id: int) -> Submission | None:
    return db.session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(
            selectinload(Submission.events).selectinload(SubmissionEvent.actor),
            selectinload(Submission.body),
            selectinload(Submission.submitted_by),
        )
        .execution_options(populate_existing=True)
    )


def rounds(kind: DocKind, document_id: int) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.document_kind == kind, Submission.document_id == document_id)
            .options(
                selectinload(Submission.submitted_by),
                selectinload(Submission.events).selectinload(SubmissionEvent.actor),
            )
            .order_by(Submission.round.desc())
        )
    )


def ballots_of(submission: Submission) -> list[Ballot]:
    return list(
        db.session.scalars(
            select(Ballot)
            .where(Ballot.submission_id == submission.id)
            .options(selectinload(Ballot.meeting))
            .order_by(Ballot.id)
        )
    )


def votes_of(ballot: Ballot) -> list[Vote]:
    return list(
        db.session.scalars(
            select(Vote)
            .where(Vote.ballot_id == ballot.id)
            .options(selectinload(Vote.organisation), selectinload(Vote.user))
            .order_by(Vote.id)
        )
    )


def my_seat_vote(ballot: Ballot, user: User) -> tuple[Attendance | None, Vote | None]:
    """The user's attendance row in the ballot's meeting, and the vote already cast for that comune."""
    row = db.session.scalar(
        select(Attendance).where(Attendance.meeting_id == ballot.meeting_id, Attendance.user_id == user.id)
    )
    if row is None:
        return None, None
    vote = db.session.scalar(
        select(Vote).where(Vote.ballot_id == ballot.id, Vote.organisation_id == row.organisation_id)
    )
    return row, vote


def ballots_for_meeting(meeting_id: int) -> dict[int, Ballot]:
    """Ballots of a meeting keyed by agenda item, with their submissions (for the meeting page)."""
    return {
        b.agenda_item_id: b
        for b in db.session.scalars(
            select(Ballot).where(Ballot.meeting_id == meeting_id).options(selectinload(Ballot.submission))
        )
    }


def approved_count() -> int:
    """How many documents have an approved version."""
    documents = _latest_rounds(Submission.status == SubmissionStatus.APPROVED)
    return db.session.scalar(select(func.count()).select_from(documents)) or 0


def _latest_rounds(*conditions: Any) -> Any:
    """The newest round of each document among the submissions matching `conditions`, joinable on kind, id, round."""
    return (
        select(Submission.document_kind, Submission.document_id, func.max(Submission.round).label("round"))
        .where(*conditions)
        .group_by(Submission.document_kind, Submission.document_id)
        .subquery()
    )


def _is_round(newest: Any) -> Any:
    return (
        (newest.c.document_kind == Submission.document_kind)
        & (newest.c.document_id == Submission.document_id)
        & (newest.c.round == Submission.round)
    )


def approved_latest(
    kind: DocKind | None = None,
    cycle_id: int | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    with_content: bool = False,
    with_body: bool = True,
) -> list[Submission]:
    """The latest approved round of each document (optionally of one kind and cycle), newest decision first.
    Lists leave the frozen content unloaded; the plan assembly asks for it."""
    newest = _latest_rounds(Submission.status == SubmissionStatus.APPROVED)
    stmt = (
        select(Submission)
        .join(newest, _is_round(newest))
        .order_by(Submission.decided_at.desc(), Submission.id.desc())
    )
    if with_body:
        stmt = stmt.options(selectinload(Submission.body))
    if kind is not None:
        stmt = stmt.where(Submission.document_kind == kind)
    if cycle_id is not None:
        stmt = stmt.where(Submission.cycle_id == cycle_id)
    if not with_content:
        stmt = stmt.options(defer(Submission.content, raiseload=True))
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


def open_submissions() -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.status.in_([SubmissionStatus.IN_REVIEW, SubmissionStatus.AWAITING_VOTE]))
            .options(selectinload(Submission.body), defer(Submission.content, raiseload=True))
            .order_by(Submission.submitted_at)
        )
    )


def plans(cycle_id: int) -> list[PlanDocument]:
    return list(
        db.session.scalars(
            select(PlanDocument)
            .where(PlanDocument.cycle_id == cycle_id)
            .order_by(PlanDocument.year, PlanDocument.kind)
        )
    )


# --- differences -----------------------------------------------------------------------------------


@dataclass
class Change:
    where: str
    before: str
    after: str
    html: Markup


def differences(old: doc.Content, new: doc.Content) -> list[Change]:
    """Every block that differs between two versions, with a word diff."""
    a, b = doc.flatten(old), doc.flatten(new)
    out = []
    for key in list(dict.fromkeys([*a, *b])):
        before, after = a.get(key, ""), b.get(key, "")
        if before != after:
            out.append(Change(key, before, after, word_diff(before, after)))
    return out


# --- "Da fare" -------------------------------------------------------------------------------------


@dataclass
class Todo:
    text: str
    url: str
    kind: str  # esame | calendario | revisione | voto | scadenza


def todo(user: User, today: date) -> list[Todo]:
    """What waits for this person in the chain, in a bounded number of queries."""
    items: list[Todo] = []
    for sub in open_submissions():
        url = url_for("approvals.submission", submission_id=sub.id)
        if sub.status == SubmissionStatus.IN_REVIEW and policy.can(user, "approval.review", sub):
            body = services.step_body(sub)
            items.append(
                Todo(_("Esamina «%(t)s» per %(b)s", t=sub.title, b=body.name if body else "—"), url, "esame")
            )
        elif sub.status == SubmissionStatus.AWAITING_VOTE and policy.can(user, "approval.schedule", sub):
            items.append(
                Todo(
                    _("Iscrivi «%(t)s» all'ordine del giorno dell'Assemblea dei Sindaci", t=sub.title),
                    url,
                    "calendario",
                )
            )
    coordinated = select(Membership.body_id).where(
        Membership.user_id == user.id,
        Membership.ended_at.is_(None),
        Membership.role.in_(list(COORDINATOR_ROLES)),
    )
    newest = _latest_rounds()
    returned = db.session.scalars(
        select(Submission)
        .join(newest, _is_round(newest))
        .where(
            Submission.status.in_([SubmissionStatus.SENT_BACK, SubmissionStatus.REJECTED]),
            Submission.body_id.in_(coordinated),
        )
        .order_by(Submission.decided_at)
    )
    for sub in returned:
        items.append(
            Todo(
                _(
                    "Rivedi «%(t)s» e inviala di nuovo: %(s)s",
                    t=sub.title,
                    s=_("restituita") if sub.status == SubmissionStatus.SENT_BACK else _("respinta"),
                ),
                url_for("approvals.submission", submission_id=sub.id),
                "revisione",
            )
        )
    open_ballots = db.session.execute(
        select(Ballot, Attendance)
        .join(Attendance, Attendance.meeting_id == Ballot.meeting_id)
        .where(
            Ballot.status == BallotStatus.OPEN,
            Attendance.user_id == user.id,
            Attendance.left_at.is_(None),
            Attendance.status == AttendanceStatus.PRESENT,
            ~select(Vote.id)
            .where(Vote.ballot_id == Ballot.id, Vote.organisation_id == Attendance.organisation_id)
            .exists(),
        )
        .options(selectinload(Ballot.submission))
    ).all()
    for ballot, _row in open_ballots:
        items.append(
            Todo(
                _("Vota su «%(t)s»", t=ballot.submission.title),
                url_for("approvals.ballot", ballot_id=ballot.id),
                "voto",
            )
        )
    upcoming = db.session.execute(
        select(Ballot, Meeting)
        .join(Meeting, Meeting.id == Ballot.meeting_id)
        .join(
            Membership,
            (Membership.body_id == Meeting.body_id)
            & (Membership.user_id == user.id)
            & Membership.ended_at.is_(None),
        )
        .where(
            Ballot.status == BallotStatus.SCHEDULED,
            Meeting.status.in_([MeetingStatus.CONVENED, MeetingStatus.IN_PROGRESS]),
        )
        .options(selectinload(Ballot.submission))
        .order_by(Meeting.starts_at)
    ).all()
    for ballot, meeting in upcoming:
        items.append(
            Todo(
                _("In votazione all'incontro «%(m)s»: «%(t)s»", m=meeting.title, t=ballot.submission.title),
                url_for("meetings.detail", meeting_id=meeting.id),
                "voto",
            )
        )
    if policy.can(user, "plan.manage"):
        cycle = db.session.scalar(
            select(PlanningCycle).where(PlanningCycle.status == CycleStatus.RUNNING).limit(1)
        )
        for d in services.deadlines(today, cycle) if cycle else []:
            if d.status != SubmissionStatus.APPROVED and d.days_left <= 90:
                what = (
                    _("Piano Operativo %(y)d", y=d.year)
                    if d.kind == DocKind.PIANO_OPERATIVO
                    else _("Report Annuale %(y)d", y=d.year)
                )
                when = (
                    _("scade tra %(n)d giorni", n=d.days_left)
                    if d.days_left >= 0
                    else _("scaduto da %(n)d giorni", n=-d.days_left)
                )
                items.append(Todo(f"{what}: {when}", url_for("approvals.plans"), "scadenza"))
    return items


def visible(user: Any, submissions: list[Submission]) -> list[Submission]:
    return [s for s in submissions if policy.can(user, "approval.view", s)]
