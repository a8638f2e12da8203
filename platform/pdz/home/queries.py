""" "My work": everything that waits for the signed-in person, for "La mia pagina" and "Da fare".

One list of `Work` rows in sections: action items (overdue first, highlighted), minutes drafts to finish,
meetings to convene or to answer, reviews and votes of the approval chain, unread mentions, and cards of
the person's tavoli with required fields still empty. Each section is one or two queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, select, union_all
from sqlalchemy.orm import joinedload

from .. import policy
from ..approvals import queries as approvals_queries
from ..cards import fields
from ..cards.models import Card, CardAction, CardBudgetLine, CardIndicator, CardStatus, CardValue
from ..db import utcnow
from ..extensions import db
from ..meetings import queries as meetings_queries
from ..meetings.models import Meeting, MeetingStatus, MinutesStatus, Rsvp
from ..notifications.models import Notification, NotificationKind
from ..tavoli.models import COORDINATOR_ROLES, WRITER_ROLES, Body, BodyStatus, Membership, MembershipRole

SECTIONS = ("azioni", "verbali", "incontri", "approvazioni", "menzioni", "schede")
CARD_LIMIT = 20


class Section(list["Work"]):
    """The rows of one section; `total` counts them all when only the first ones were loaded."""

    def __init__(self, rows: Any = (), total: int | None = None) -> None:
        super().__init__(rows)
        self.total = len(self) if total is None else total


@dataclass
class Work:
    section: str
    kind: str  # a CSS/test hook: azione, verbale, convocare, rispondere, esame, voto, menzione, scheda ...
    text: str
    url: str
    detail: str = ""
    due_on: date | None = None
    overdue: bool = False


def _my_bodies(user: Any, roles: frozenset[Any] | None = None) -> Any:
    stmt = select(Membership.body_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))
    if roles is not None:
        stmt = stmt.where(Membership.role.in_(list(roles)))
    return stmt


def actions(user: Any, today: date) -> list[Work]:
    rows: list[Work] = []
    for action in meetings_queries.open_actions(owner=user):
        overdue = action.due_on is not None and action.due_on < today
        rows.append(
            Work(
                "azioni",
                "azione",
                action.title,
                url_for("meetings.minutes", meeting_id=action.meeting_id),
                detail=f"{action.meeting.title} · {action.meeting.body.display_name}",
                due_on=action.due_on,
                overdue=overdue,
            )
        )
    rows.sort(key=lambda w: (not w.overdue, w.due_on is None, w.due_on or date.max))
    return rows


def minutes_drafts(user: Any, limit: int | None = None) -> Section:
    """Concluded meetings whose minutes are still a draft, in bodies the person co-coordinates or minutes;
    the oldest `limit` of them (all with None), `total` counting every one (a tavolo that never finishes its
    minutes collects hundreds: the home shows three)."""
    writers = COORDINATOR_ROLES | {MembershipRole.SECRETARY}
    # A join on the person's memberships, not `body_id IN (subquery)`: SQLite then seeks the meetings of
    # each body through (body, status, start) instead of reading every meeting.
    where = (
        Membership.user_id == user.id,
        Membership.ended_at.is_(None),
        Membership.role.in_(list(writers)),
        Meeting.status == MeetingStatus.CONCLUDED,
        Meeting.minutes_status == MinutesStatus.DRAFT,
    )
    mine = Membership.body_id == Meeting.body_id
    stmt = (
        select(Meeting)
        .join(Membership, mine)
        .where(*where)
        .options(joinedload(Meeting.body))
        .order_by(Meeting.starts_at)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [
        Work(
            "verbali",
            "verbale",
            _("Completa il verbale di «%(t)s»", t=m.title),
            url_for("meetings.minutes", meeting_id=m.id),
            detail=m.body.display_name,
            due_on=m.starts_at.date(),
        )
        for m in db.session.scalars(stmt)
        if policy.can(user, "meeting.minutes.write", m)  # the query asks the same roles: a formality
    ]
    if limit is None or len(rows) < limit:
        return Section(rows)
    return Section(
        rows,
        db.session.scalar(select(func.count()).select_from(Meeting).join(Membership, mine).where(*where)),
    )


def meetings_to_act(user: Any, now: datetime) -> list[Work]:
    rows: list[Work] = []
    drafts = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.body_id.in_(_my_bodies(user, COORDINATOR_ROLES)),
            Meeting.status == MeetingStatus.DRAFT,
            Meeting.starts_at >= now,
        )
        .options(joinedload(Meeting.body))
        .order_by(Meeting.starts_at)
    )
    for m in drafts:
        if policy.can(user, "meeting.manage", m):
            rows.append(
                Work(
                    "incontri",
                    "convocare",
                    _("Convoca «%(t)s»", t=m.title),
                    url_for("meetings.detail", meeting_id=m.id),
                    detail=m.body.display_name,
                    due_on=m.starts_at.date(),
                )
            )
    unanswered = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.body_id.in_(_my_bodies(user)),
            Meeting.status == MeetingStatus.CONVENED,
            Meeting.starts_at >= now,
            ~select(Rsvp.id).where(Rsvp.meeting_id == Meeting.id, Rsvp.user_id == user.id).exists(),
        )
        .options(joinedload(Meeting.body))
        .order_by(Meeting.starts_at)
    )
    for m in unanswered:
        if policy.can(user, "meeting.respond", m):
            rows.append(
                Work(
                    "incontri",
                    "rispondere",
                    _("Rispondi alla convocazione di «%(t)s»", t=m.title),
                    url_for("meetings.detail", meeting_id=m.id),
                    detail=m.body.display_name,
                    due_on=m.starts_at.date(),
                )
            )
    return rows


def chain(user: Any, today: date) -> list[Work]:
    """Reviews, votes, documents sent back and plan deadlines: the approval chain's own "Da fare"."""
    return [
        Work("approvazioni", todo.kind, todo.text, todo.url) for todo in approvals_queries.todo(user, today)
    ]


def mentions(user: Any) -> list[Work]:
    notes = db.session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.kind == NotificationKind.MENTION,
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at.desc())
        .limit(20)
    )
    bodies: dict[int, Any] = {}
    rows = []
    for note in notes:
        if note.body_id not in bodies:
            bodies[note.body_id] = db.session.get(Body, note.body_id)
        if policy.can(user, "tavolo.view", bodies[note.body_id]):
            rows.append(Work("menzioni", "menzione", note.text, note.url))
    return rows


def incomplete_cards(user: Any) -> list[Work]:
    """Draft cards of the tavoli the person writes in, with the plan's required fields still empty."""
    cards = list(
        db.session.scalars(
            select(Card)
            .join(Body, Body.id == Card.body_id)
            .where(
                Card.body_id.in_(_my_bodies(user, WRITER_ROLES)),
                Card.status == CardStatus.DRAFT,
                Body.status == BodyStatus.ACTIVE,
            )
            .options(joinedload(Card.body))
            .order_by(Card.body_id, Card.id)
        )
    )
    if not cards:
        return []
    ids = [c.id for c in cards]
    values: dict[int, dict[str, str]] = {}
    for card_id, key, source in db.session.execute(
        select(CardValue.card_id, CardValue.key, CardValue.value_source).where(CardValue.card_id.in_(ids))
    ):
        values.setdefault(card_id, {})[key] = source
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    per_kind = [  # one query for the three counts
        select(literal(name).label("kind"), model.card_id, func.count())
        .where(and_(model.card_id.in_(ids), ~model.removed))
        .group_by(model.card_id)
        for name, model in (
            ("azioni", CardAction),
            ("risorse", CardBudgetLine),
            ("indicatori", CardIndicator),
        )
    ]
    for name, card_id, n in db.session.execute(union_all(*per_kind)):
        counts[card_id][name] = n
    rows: list[Work] = []
    for card in cards:
        missing = [
            item.label for item in fields.checklist(values.get(card.id, {}), counts[card.id]) if not item.done
        ]
        if not missing or not policy.can(user, "card.edit", card):
            continue
        shown = "; ".join(_short(label) for label in missing[:2])
        if len(missing) > 2:
            shown += " " + _("e altri %(n)d", n=len(missing) - 2)
        rows.append(
            Work(
                "schede",
                "scheda",
                _("Completa «%(t)s»: %(n)d campi obbligatori vuoti", t=card.title, n=len(missing)),
                url_for("cards.detail", card_id=card.id),
                detail=f"{card.body.display_name} · {shown}",
            )
        )
        if len(rows) >= CARD_LIMIT:
            break
    return rows


def _short(label: str, limit: int = 48) -> str:
    """Field labels are the plan template's questions, often long and in capitals: a readable start."""
    upper = sum(c.isupper() for c in label) > sum(c.islower() for c in label)
    text = label.capitalize() if upper else label
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def my_work(user: Any, today: date | None = None, limit: int | None = None) -> dict[str, Section]:
    """Every section of the person's work; with `limit`, sections that grow with the history (minutes
    drafts) load only their first `limit` rows, `total` still counting all."""
    today = today or date.today()
    now = utcnow()
    return {
        "azioni": Section(actions(user, today)),
        "verbali": minutes_drafts(user, limit),
        "incontri": Section(meetings_to_act(user, now)),
        "approvazioni": Section(chain(user, today)),
        "menzioni": Section(mentions(user)),
        "schede": Section(incomplete_cards(user)),
    }
