"""Demo meetings: a season of past meetings since January 2025 (attendance varying by organisation and
sub-ambito, approved minutes, decisions, actions) and a couple of convened ones ahead, for every tavolo,
the UdP Integrato, the Comitato Ristretto and the Assemblea dei Sindaci. Idempotent: a body that already
has meetings is left alone."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select

from ..cards.models import Card
from ..db import utcnow
from ..demo import Demo, load_json
from ..extensions import db
from ..tavoli.models import Body, BodyKind, Membership, MembershipRole
from ..text import render_markdown
from .common import local_to_utc
from .models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesRevision,
    MinutesStatus,
    QuorumKind,
    QuorumRule,
    Rsvp,
    RsvpAnswer,
    agenda_item_cards,
)

FIRST_MONTH = date(2025, 1, 1)
GOVERNANCE = {
    # name: (months between meetings, start time, end time)
    "Assemblea dei Sindaci (di Ambito)": (3, time(18, 0), time(20, 0)),
    "Comitato Ristretto": (2, time(17, 30), time(19, 0)),
    "Ufficio di Piano Integrato": (1, time(9, 30), time(12, 0)),
}
# Some sub-ambiti find it harder to come to Crema (distance, small comuni): they are absent more often.
SUB_AMBITO_FACTOR = {
    "Crema": 1.0,
    "Castelleone": 0.9,
    "Pandino": 0.9,
    "Bagnolo Cremasco": 0.85,
    "Sergnano": 0.6,
    "Soncino": 0.45,
}


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _meeting_days(start: date, until: date, every: int, weekday: int, week: int) -> list[date]:
    days, month = [], start
    while month <= until:
        if month.month != 8:  # no meetings in August
            day = _weekday_on_or_after(month, weekday) + timedelta(weeks=week)
            if day <= until:
                days.append(day)
        year, mon = divmod(month.month - 1 + every, 12)
        month = date(month.year + year, mon + 1, 1)
    return days


def _reliability(rng: random.Random, membership: Membership, cache: dict[int, float]) -> float:
    org = membership.organisation
    if org.id not in cache:
        factor = 0.55 + 0.45 * rng.random()  # some organisations simply come less
        if org.sub_ambiti:
            factor *= SUB_AMBITO_FACTOR.get(org.sub_ambiti[0].name, 0.85)
        cache[org.id] = factor
    base = (
        0.98
        if membership.role
        in (MembershipRole.COORD_PUBLIC, MembershipRole.COORD_ETS, MembershipRole.SECRETARY)
        else 0.85
    )
    return base * cache[org.id]


def _items(
    meeting: Meeting, pool: list[list[Any]], rng: random.Random, with_minutes: bool, texts: list[str]
) -> list[AgendaItem]:
    chosen = [pool[0], *rng.sample(pool[1:-1], min(2, len(pool) - 2)), pool[-1]] if len(pool) > 3 else pool
    items = []
    for position, (title, description, minutes) in enumerate(chosen, start=1):
        item = AgendaItem(
            meeting=meeting, position=position, title=title, description=description, planned_minutes=minutes
        )
        if with_minutes:
            item.minutes_source = rng.choice(texts)
            item.minutes_html = str(render_markdown(item.minutes_source))
            item.minutes_rev = 1
        items.append(item)
    return items


def load(demo: Demo) -> None:
    seed = load_json("meetings.json")
    rng = random.Random(2025)  # noqa: S311 - deterministic demo data, independent of other steps
    today = utcnow().date()
    udp = demo.users.get("udp@example.org")
    if udp is None:
        return
    bodies = [b for b in demo.bodies.values() if b.is_thematic] + [
        demo.bodies[name] for name in GOVERNANCE if name in demo.bodies
    ]
    rules = {
        "Assemblea dei Sindaci (di Ambito)": (QuorumKind.MAJORITY, True),
        "Comitato Ristretto": (QuorumKind.MAJORITY, False),
    }
    for name, (kind, weighted) in rules.items():
        body = demo.bodies.get(name)
        if body is not None and not db.session.scalar(
            select(QuorumRule.id).where(QuorumRule.body_id == body.id)
        ):
            db.session.add(
                QuorumRule(body_id=body.id, kind=kind, numerator=1, denominator=2, weighted=weighted)
            )
    reliability: dict[int, float] = {}
    for index, body in enumerate(sorted(bodies, key=lambda b: b.name)):
        if db.session.scalar(select(Meeting.id).where(Meeting.body_id == body.id).limit(1)):
            continue
        _season(demo, body, index, seed, rng, today, udp, reliability)
    db.session.flush()
    for body in sorted(demo.bodies.values(), key=lambda b: b.name):
        if body.is_thematic:
            _link_cards(body)
    db.session.flush()


def _link_cards(body: Body) -> None:
    """The tavolo's cards were discussed at its latest concluded meeting (second item: after the opening)."""
    linked = db.session.scalar(
        select(agenda_item_cards.c.card_id)
        .join(AgendaItem, AgendaItem.id == agenda_item_cards.c.agenda_item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.body_id == body.id)
        .limit(1)
    )
    card_ids = list(db.session.scalars(select(Card.id).where(Card.body_id == body.id).order_by(Card.id)))
    meeting_id = db.session.scalar(
        select(Meeting.id)
        .where(Meeting.body_id == body.id, Meeting.status == MeetingStatus.CONCLUDED)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )
    if linked is not None or not card_ids or meeting_id is None:
        return
    item_ids = list(
        db.session.scalars(
            select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
    )
    if not item_ids:
        return
    item_id = item_ids[1] if len(item_ids) > 1 else item_ids[0]
    db.session.execute(
        agenda_item_cards.insert(), [{"agenda_item_id": item_id, "card_id": card_id} for card_id in card_ids]
    )


def _season(
    demo: Demo,
    body: Body,
    index: int,
    seed: dict[str, Any],
    rng: random.Random,
    today: date,
    udp: Any,
    reliability: dict[int, float],
) -> None:
    members = list(
        db.session.scalars(
            select(Membership)
            .where(Membership.body_id == body.id, Membership.ended_at.is_(None))
            .order_by(Membership.id)
        )
    )
    if not members:
        return
    coordinator = next((m.user_id for m in members if m.is_coordinator), udp.id)
    every, start, end = GOVERNANCE.get(body.name, (1, time(17, 0), time(19, 0)))
    pool = seed["governance_items"].get(body.name, seed["tavolo_items"])
    place = seed["governance_places"].get(body.name) or seed["places"][index % len(seed["places"])]
    weekday, week = index % 4 + 1, index % 3  # spread bodies over the week and the month
    past_days = _meeting_days(FIRST_MONTH, today - timedelta(days=3), every, weekday, week)
    ahead_from = _weekday_on_or_after(today + timedelta(days=7 + index % 5), weekday)
    upcoming_days = [ahead_from, ahead_from + timedelta(weeks=4 * every)]
    kind_label = (
        "Seduta" if body.kind in (BodyKind.ASSEMBLEA_SINDACI, BodyKind.COMITATO_RISTRETTO) else "Incontro"
    )
    past: list[Meeting] = []
    for number, day in enumerate(past_days, start=1):
        meeting = Meeting(
            body_id=body.id,
            title=f"{kind_label} n. {number}",
            starts_at=local_to_utc(day, start),
            ends_at=local_to_utc(day, end),
            place=place,
            status=MeetingStatus.CONCLUDED,
            created_by_id=coordinator,
            published_at=local_to_utc(day - timedelta(days=10), time(9, 0)),
        )
        meeting.started_at, meeting.concluded_at = meeting.starts_at, meeting.ends_at
        meeting.items = _items(meeting, pool, rng, True, seed["minutes"])
        db.session.add(meeting)
        past.append(meeting)
    db.session.flush()
    for meeting in past:
        attended = []
        for membership in members:
            chance = _reliability(rng, membership, reliability)
            if rng.random() < chance:
                status, arrived = AttendanceStatus.PRESENT, meeting.starts_at
                if rng.random() < 0.1:
                    arrived = meeting.starts_at + timedelta(minutes=rng.choice([10, 15, 25, 40]))
                attended.append(membership)
            else:
                status, arrived = (
                    (AttendanceStatus.EXCUSED if rng.random() < 0.5 else AttendanceStatus.ABSENT),
                    None,
                )
            left = (
                meeting.ends_at - timedelta(minutes=30)
                if status == AttendanceStatus.PRESENT and rng.random() < 0.06
                else None
            )
            db.session.add(
                Attendance(
                    meeting_id=meeting.id,
                    user_id=membership.user_id,
                    organisation_id=membership.organisation_id,
                    status=status,
                    arrived_at=arrived,
                    left_at=left,
                )
            )
        for item in meeting.items:
            db.session.add(
                MinutesRevision(
                    item_id=item.id,
                    number=1,
                    text=item.minutes_source,
                    op_id=f"demo-{item.id}",
                    author_id=coordinator,
                )
            )
        if rng.random() < 0.6:
            db.session.add(
                Decision(
                    meeting_id=meeting.id,
                    item_id=meeting.items[1].id,
                    text=rng.choice(seed["decisions"]),
                    author_id=coordinator,
                )
            )
        if attended and rng.random() < 0.7:
            owner = rng.choice(attended)
            recent = meeting.starts_at.date() > today - timedelta(days=90)
            done = not recent and rng.random() < 0.8
            db.session.add(
                ActionItem(
                    meeting_id=meeting.id,
                    item_id=meeting.items[-2].id,
                    title=rng.choice(seed["actions"]),
                    owner_id=owner.user_id,
                    organisation_id=owner.organisation_id,
                    due_on=meeting.starts_at.date() + timedelta(days=30),
                    status=ActionStatus.DONE if done else ActionStatus.OPEN,
                    completed_at=meeting.ends_at if done else None,
                )
            )
    # Minutes are approved at the following meeting; the latest one waits for the next.
    for earlier, later in zip(past, past[1:], strict=False):
        earlier.minutes_status = MinutesStatus.APPROVED
        earlier.minutes_approved_in_id = later.id
        earlier.minutes_approved_at = later.starts_at + timedelta(minutes=10)
        earlier.minutes_approved_by_id = coordinator
    for number, day in enumerate(upcoming_days, start=len(past_days) + 1):
        meeting = Meeting(
            body_id=body.id,
            title=f"{kind_label} n. {number}",
            starts_at=local_to_utc(day, start),
            ends_at=local_to_utc(day, end),
            place=place,
            status=MeetingStatus.CONVENED,
            created_by_id=coordinator,
            published_at=utcnow(),
        )
        meeting.items = _items(meeting, pool, rng, False, [])
        db.session.add(meeting)
        db.session.flush()
        if number == len(past_days) + 1:
            for membership in members:
                if membership.user.email.endswith("@example.org") and membership.user.email.split("@")[0] in {
                    "membro",
                    "coord.pubblico",
                    "coord.ets",
                    "osservatore",
                    "sindaco",
                    "delegato",
                    "disabilita",
                    "udp",
                }:
                    continue  # the named demo accounts answer themselves
                if rng.random() < 0.6:
                    db.session.add(
                        Rsvp(
                            meeting_id=meeting.id,
                            user_id=membership.user_id,
                            answer=RsvpAnswer.YES if rng.random() < 0.8 else RsvpAnswer.NO,
                        )
                    )
