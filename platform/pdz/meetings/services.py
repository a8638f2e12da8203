"""Meeting use cases: schedule, agenda, convocation, answers, live running, attendance, quorum, minutes.

Every function authorises through the policy, validates with Italian messages, changes the models,
writes one audit entry, queues live events, and never commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, policy
from ..accounts.models import Affiliation, User
from ..cards.models import Card
from ..db import utcnow
from ..errors import EditConflict, Invalid, NotFound
from ..extensions import db
from ..formatting import ROME, format_local, local
from ..idempotency import insert_once
from ..notifications import services as notifications
from ..notifications.models import NotificationKind
from ..orgs.models import Organisation
from ..realtime import publish_after_commit
from ..tavoli.models import Body, Membership, MembershipRole
from . import ics
from .models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    CalendarFeed,
    Decision,
    MajorityKind,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    QuorumKind,
    QuorumRule,
    Rsvp,
    RsvpAnswer,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room
CODE_LENGTH = 6
MAX_MINUTES_CHARS = 50_000  # one agenda item's minutes (co-written)
MAX_DECISION_CHARS = 5_000
MAX_CARDS_PER_ITEM = 20
# Who holds a seat for the quorum: observers and the secretary do not.
SEAT_ROLES = frozenset(
    {MembershipRole.MEMBER, MembershipRole.COORD_PUBLIC, MembershipRole.COORD_ETS, MembershipRole.DELEGATE}
)


def room(meeting: Meeting) -> str:
    return f"meeting:{meeting.id}"


# --- time and validation ---------------------------------------------------------------------------


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Europe/Rome to UTC; a time skipped by the spring change is refused."""
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    aware = naive.replace(tzinfo=ROME)
    if aware.astimezone(UTC).astimezone(ROME).replace(tzinfo=None) != naive:
        raise Invalid(
            errors={"start": _("Quest'ora non esiste in quel giorno per il passaggio all'ora legale.")}
        )
    return aware.astimezone(UTC)


def _check_url(url: str, field_name: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(errors={field_name: _("Il collegamento deve iniziare con http:// o https://.")})
    return url


def _details(
    title: str, day: date | None, start: time | None, end: time | None, place: str, video_url: str
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Indica il titolo dell'incontro.")
    if day is None:
        errors["day"] = _("Indica la data.")
    if start is None:
        errors["start"] = _("Indica l'ora di inizio.")
    if end is None:
        errors["end"] = _("Indica l'ora di fine.")
    place, video_url = (place or "").strip(), (video_url or "").strip()
    if not place and not video_url:
        errors["place"] = _("Indica il luogo oppure il collegamento per la videochiamata.")
    if errors:
        raise Invalid(errors=errors)
    assert day is not None and start is not None and end is not None
    video_url = _check_url(video_url, "video_url")
    starts_at, ends_at = local_to_utc(day, start), local_to_utc(day, end)
    if ends_at <= starts_at:
        raise Invalid(errors={"end": _("L'ora di fine deve essere successiva all'ora di inizio.")})
    return {
        "title": title[:200],
        "starts_at": starts_at,
        "ends_at": ends_at,
        "place": place[:300],
        "video_url": video_url,
    }


def _not_frozen(meeting: Meeting) -> None:
    if meeting.is_frozen:
        raise Invalid(
            _(
                "Il verbale di questo incontro è stato approvato: presenze e verbale non si possono più modificare."
            )
        )


def _status_in(meeting: Meeting, *allowed: MeetingStatus, message: str) -> None:
    if meeting.status not in allowed:
        raise Invalid(message)


# --- recipients and notices ------------------------------------------------------------------------


def _members(body: Body) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.body_id == body.id, Membership.ended_at.is_(None))
            .options(
                selectinload(Membership.user),
                selectinload(Membership.organisation).selectinload(Organisation.comune),
            )
            .order_by(Membership.id)
        )
    )


def _notify_members(meeting: Meeting, subject: str, intro: str, event: str) -> None:
    """Convocation, change or cancellation: every active member and every delegate named in an answer hears
    of it at once (urgent: not left for the daily digest), with the calendar file, unless they chose no mail
    ("mai": they still see it in PdZ and in their calendar feed)."""
    attachment = ics.attachment(meeting)
    lines = [
        intro,
        "",
        f"{meeting.body.name}: {meeting.title}",
        _(
            "Quando: %(day)s, dalle %(start)s alle %(end)s (ora italiana)",
            day=format_local(meeting.starts_at, "day"),
            start=format_local(meeting.starts_at, "time"),
            end=format_local(meeting.ends_at, "time"),
        ),
        _("Dove: %(place)s", place=meeting.place or meeting.video_url),
        "",
        _("Ordine del giorno:"),
        *[f"{item.position}. {item.title}" for item in meeting.items],
        "",
        _("Rispondi (partecipo / non partecipo / delego) qui: %(url)s", url=ics.meeting_url(meeting)),
    ]
    body = "\n".join(lines)
    recipients = {m.user_id: m.user for m in _members(meeting.body) if m.user.active}
    for rsvp in meeting.rsvps:
        if rsvp.delegate is not None and rsvp.delegate.active:
            recipients[rsvp.delegate.id] = rsvp.delegate
    notifications.notify(
        [
            notifications.Recipient(user, NotificationKind.MEETING, meeting.body)
            for user in recipients.values()
        ],
        actor=None,
        target_kind="meeting",
        target_id=meeting.id,
        url=url_for("meetings.detail", meeting_id=meeting.id),
        text=f"{subject} · {meeting.body.display_name}",
        mail_subject=lambda _note: subject,
        mail_text=lambda _note: body,
        attachments=[attachment],
        urgent=True,
        readers_only=False,  # a delegate need not belong to the body
    )
    for user in recipients.values():
        publish_after_commit(
            f"user:{user.id}",
            event,
            {"meeting_id": meeting.id, "title": meeting.title, "body": meeting.body.display_name},
        )


# --- scheduling ------------------------------------------------------------------------------------


def schedule_meeting(
    body: Body,
    *,
    title: str,
    day: date | None,
    start: time | None,
    end: time | None,
    place: str = "",
    video_url: str = "",
    actor: User,
) -> Meeting:
    policy.require(actor, "meeting.schedule", body)
    meeting = Meeting(
        body_id=body.id,
        body=body,
        created_by_id=actor.id,
        status=MeetingStatus.DRAFT,
        **_details(title, day, start, end, place, video_url),
    )
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "meeting.scheduled", meeting, {"body_id": body.id})
    return meeting


def update_meeting(
    meeting: Meeting,
    *,
    title: str,
    day: date | None,
    start: time | None,
    end: time | None,
    place: str = "",
    video_url: str = "",
    actor: User,
) -> Meeting:
    policy.require(actor, "meeting.manage", meeting)
    _status_in(
        meeting,
        MeetingStatus.DRAFT,
        MeetingStatus.CONVENED,
        message=_("Si possono modificare solo gli incontri in bozza o convocati."),
    )
    values = _details(title, day, start, end, place, video_url)
    if meeting.status == MeetingStatus.CONVENED and values["starts_at"] <= utcnow() < meeting.starts_at:
        raise Invalid(errors={"day": _("Non puoi spostare nel passato un incontro già convocato.")})
    changed = sorted(k for k, v in values.items() if getattr(meeting, k) != v)
    for key, value in values.items():
        setattr(meeting, key, value)
    if not changed:
        return meeting
    meeting.updated_at = utcnow()
    audit.record(actor, "meeting.updated", meeting, {"fields": changed})
    if meeting.status == MeetingStatus.CONVENED:
        meeting.sequence += 1
        _notify_members(
            meeting,
            _("Incontro modificato: %(t)s", t=meeting.title),
            _("L'incontro a cui sei convocato è cambiato. Il calendario allegato sostituisce il precedente."),
            "meeting.changed",
        )
        publish_after_commit(
            room(meeting), "meeting.updated", {"meeting_id": meeting.id, "sequence": meeting.sequence}
        )
    return meeting


def publish_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    """Publishing the agenda is the convocation: every member is notified (in-app and e-mail with .ics)."""
    policy.require(actor, "meeting.manage", meeting)
    _status_in(
        meeting, MeetingStatus.DRAFT, message=_("Questo incontro è già stato convocato o non è più in bozza.")
    )
    if meeting.starts_at <= utcnow():
        raise Invalid(_("L'incontro è nel passato: non si può convocare. Correggi data e ora."))
    if not meeting.items:
        raise Invalid(_("Aggiungi almeno un punto all'ordine del giorno prima di convocare."))
    meeting.status = MeetingStatus.CONVENED
    meeting.published_at = utcnow()
    meeting.updated_at = utcnow()
    audit.record(actor, "meeting.published", meeting, {"items": len(meeting.items)})
    _notify_members(
        meeting,
        _("Convocazione: %(t)s", t=meeting.title),
        _("Sei convocato al prossimo incontro. In allegato l'invito per il tuo calendario."),
        "meeting.convened",
    )
    publish_after_commit(
        room(meeting), "meeting.status_changed", {"meeting_id": meeting.id, "status": meeting.status.value}
    )
    return meeting


def cancel_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    policy.require(actor, "meeting.manage", meeting)
    _status_in(
        meeting,
        MeetingStatus.DRAFT,
        MeetingStatus.CONVENED,
        message=_("Si possono annullare solo incontri in bozza o convocati."),
    )
    was_convened = meeting.status == MeetingStatus.CONVENED
    meeting.status = MeetingStatus.CANCELLED
    meeting.updated_at = utcnow()
    audit.record(actor, "meeting.cancelled", meeting)
    if was_convened:
        meeting.sequence += 1
        _notify_members(
            meeting,
            _("Incontro annullato: %(t)s", t=meeting.title),
            _("L'incontro è stato annullato. Il file allegato lo toglie dal tuo calendario."),
            "meeting.cancelled",
        )
    publish_after_commit(
        room(meeting), "meeting.status_changed", {"meeting_id": meeting.id, "status": meeting.status.value}
    )
    return meeting


# --- agenda ----------------------------------------------------------------------------------------


def parse_links(text: str) -> list[dict[str, str]]:
    """One document per line: `Title | https://...` (or just the address)."""
    links = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        title, _sep, url = line.rpartition("|") if "|" in line else ("", "", line)
        url = _check_url(url.strip(), "links")
        links.append({"title": (title.strip() or url)[:200], "url": url[:500]})
    if len(links) > 20:
        raise Invalid(errors={"links": _("Al massimo 20 documenti per punto.")})
    return links


def _item_values(
    title: str, description: str, presenter: str, planned_minutes: int | None, links: str
) -> dict[str, Any]:
    title = (title or "").strip()
    if not title:
        raise Invalid(errors={"title": _("Indica il titolo del punto.")})
    if planned_minutes is not None and not 1 <= planned_minutes <= 600:
        raise Invalid(errors={"planned_minutes": _("I minuti previsti devono essere tra 1 e 600.")})
    return {
        "title": title[:200],
        "description": (description or "").strip()[:5000],
        "presenter": (presenter or "").strip()[:200],
        "planned_minutes": planned_minutes,
        "links": parse_links(links),
    }


def _agenda_editable(meeting: Meeting) -> None:
    _status_in(
        meeting,
        MeetingStatus.DRAFT,
        MeetingStatus.CONVENED,
        message=_("L'ordine del giorno si modifica solo prima dell'inizio dell'incontro."),
    )


def _item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = next((i for i in meeting.items if i.id == item_id), None)
    if item is None:
        raise NotFound(_("Questo punto non fa parte dell'ordine del giorno."))
    return item


def _agenda_changed(meeting: Meeting) -> None:
    publish_after_commit(room(meeting), "meeting.agenda_changed", {"meeting_id": meeting.id})


def card_linkable(meeting: Meeting, card: Card, actor: User) -> bool:
    """A tavolo's agenda links the tavolo's own cards; governance bodies (UdP Integrato, Assemblea, ...)
    may discuss any card. Either way only cards the person editing the agenda can see."""
    if meeting.body.is_thematic and card.body_id != meeting.body_id:
        return False
    return policy.can(actor, "card.view", card)


def linkable_cards(meeting: Meeting, *, actor: User) -> list[Card]:
    """The cards offered by the agenda form, in one query (plus areas and bodies for the labels)."""
    stmt = (
        select(Card)
        .options(selectinload(Card.area), selectinload(Card.body))
        .order_by(Card.key.is_(None), Card.key, Card.title)
    )
    if meeting.body.is_thematic:
        stmt = stmt.where(Card.body_id == meeting.body_id)
    return [card for card in db.session.scalars(stmt) if card_linkable(meeting, card, actor)]


def load_item_cards(item: AgendaItem) -> list[Card]:
    """Loads the (lazy="raise") cards of an item already in the session."""
    db.session.scalars(
        select(AgendaItem).where(AgendaItem.id == item.id).options(selectinload(AgendaItem.cards))
    ).one()
    return item.cards


def _linked_cards(meeting: Meeting, card_ids: list[int], actor: User) -> list[Card]:
    ids = sorted(set(card_ids))
    if len(ids) > MAX_CARDS_PER_ITEM:
        raise Invalid(errors={"cards": _("Al massimo %(n)d schede per punto.", n=MAX_CARDS_PER_ITEM)})
    cards = list(db.session.scalars(select(Card).where(Card.id.in_(ids)).order_by(Card.id))) if ids else []
    if len(cards) != len(ids) or not all(card_linkable(meeting, card, actor) for card in cards):
        raise Invalid(errors={"cards": _("La scheda non è visibile a questo organismo.")})
    return cards


def add_agenda_item(
    meeting: Meeting,
    *,
    title: str,
    description: str = "",
    presenter: str = "",
    planned_minutes: int | None = None,
    links: str = "",
    card_ids: list[int] | None = None,
    actor: User,
) -> AgendaItem:
    policy.require(actor, "meeting.manage", meeting)
    _agenda_editable(meeting)
    values = _item_values(title, description, presenter, planned_minutes, links)
    cards = _linked_cards(meeting, card_ids or [], actor)
    item = AgendaItem(meeting=meeting, position=len(meeting.items) + 1, cards=cards, **values)
    db.session.add(item)
    db.session.flush()
    audit.record(
        actor, "meeting.item_added", meeting, {"item_id": item.id, "card_ids": [c.id for c in cards]}
    )
    _agenda_changed(meeting)
    return item


def update_agenda_item(
    meeting: Meeting,
    item_id: int,
    *,
    version: int,
    title: str,
    description: str = "",
    presenter: str = "",
    planned_minutes: int | None = None,
    links: str = "",
    card_ids: list[int] | None = None,
    actor: User,
) -> AgendaItem:
    """Both co-coordinators edit the agenda: a save based on an old version is refused, nothing lost.
    `card_ids=None` leaves the linked cards as they are."""
    policy.require(actor, "meeting.manage", meeting)
    _agenda_editable(meeting)
    item = _item(meeting, item_id)
    values = _item_values(title, description, presenter, planned_minutes, links)
    cards = _linked_cards(meeting, card_ids, actor) if card_ids is not None else None
    if version != item.version:
        raise EditConflict(
            _(
                "Nel frattempo qualcun altro ha modificato questo punto: rileggi la versione attuale e riapplica le tue modifiche."
            ),
            current={k: getattr(item, k) for k in values},
            mine=values,
        )
    for key, value in values.items():
        setattr(item, key, value)
    details: dict[str, Any] = {"item_id": item.id}
    if cards is not None:
        load_item_cards(item)
        item.cards = cards
        details["card_ids"] = [c.id for c in cards]
    item.version += 1
    audit.record(actor, "meeting.item_updated", meeting, details)
    _agenda_changed(meeting)
    return item


def delete_agenda_item(meeting: Meeting, item_id: int, *, actor: User) -> None:
    policy.require(actor, "meeting.manage", meeting)
    _agenda_editable(meeting)
    item = _item(meeting, item_id)
    meeting.items.remove(item)
    for position, other in enumerate(meeting.items, start=1):
        other.position = position
    audit.record(actor, "meeting.item_removed", meeting, {"item_id": item_id, "title": item.title})
    _agenda_changed(meeting)


def move_agenda_item(meeting: Meeting, item_id: int, direction: int, *, actor: User) -> None:
    policy.require(actor, "meeting.manage", meeting)
    _agenda_editable(meeting)
    items = list(meeting.items)
    item = _item(meeting, item_id)
    index = items.index(item)
    target = index + (1 if direction > 0 else -1)
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    for position, other in enumerate(items, start=1):
        other.position = position
    audit.record(actor, "meeting.item_moved", meeting, {"item_id": item_id, "position": target + 1})
    _agenda_changed(meeting)


# --- answers (RSVP) --------------------------------------------------------------------------------


def answer_invitation(
    meeting: Meeting, answer: RsvpAnswer, delegate_id: int | None = None, *, actor: User
) -> Rsvp:
    policy.require(actor, "meeting.respond", meeting)
    _status_in(
        meeting,
        MeetingStatus.CONVENED,
        MeetingStatus.IN_PROGRESS,
        message=_("Si può rispondere solo a un incontro convocato."),
    )
    membership = policy.membership(actor, meeting.body)
    assert membership is not None
    delegate = None
    if answer == RsvpAnswer.DELEGATE:
        delegate = db.session.get(User, delegate_id) if delegate_id else None
        if delegate is None or not delegate.active:
            raise Invalid(errors={"delegate_id": _("Scegli la persona a cui deleghi.")})
        if delegate.id == actor.id:
            raise Invalid(errors={"delegate_id": _("Non puoi delegare te stesso.")})
        same_org = db.session.scalar(
            select(Affiliation.id).where(
                Affiliation.user_id == delegate.id, Affiliation.organisation_id == membership.organisation_id
            )
        )
        if not same_org:
            raise Invalid(
                errors={
                    "delegate_id": _(
                        "Puoi delegare solo una persona del tuo stesso ente (%(org)s).",
                        org=membership.organisation.name,
                    )
                }
            )
    now = utcnow()  # one answer per member, even when two arrive at once
    rsvp = insert_once(
        Rsvp,
        ["meeting_id", "user_id"],
        meeting_id=meeting.id,
        user_id=actor.id,
        answer=answer,
        created_at=now,
        updated_at=now,
    )
    rsvp.answer, rsvp.delegate_id = answer, delegate.id if delegate else None
    db.session.flush()
    audit.record(
        actor, "meeting.answered", meeting, {"answer": answer.value, "delegate_id": rsvp.delegate_id}
    )
    publish_after_commit(
        room(meeting), "meeting.rsvp_changed", {"meeting_id": meeting.id, "user_id": actor.id}
    )
    return rsvp


def delegates_for(user: User, meeting: Meeting) -> list[User]:
    """People the user may delegate: active accounts of the organisation they sit for."""
    membership = policy.membership(user, meeting.body)
    if membership is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(Affiliation, Affiliation.user_id == User.id)
            .where(
                Affiliation.organisation_id == membership.organisation_id,
                User.id != user.id,
                User.active.is_(True),
            )
            .order_by(User.full_name)
        )
    )


# --- running the meeting ---------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def start_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    """Opens the meeting: a check-in code, and an attendance sheet with every member (absent until marked)."""
    policy.require(actor, "meeting.manage", meeting)
    _status_in(meeting, MeetingStatus.CONVENED, message=_("Si può avviare solo un incontro convocato."))
    meeting.status = MeetingStatus.IN_PROGRESS
    meeting.started_at = utcnow()
    meeting.checkin_code = new_code()
    meeting.current_item_id = meeting.items[0].id if meeting.items else None
    answers = {r.user_id: r.answer for r in meeting.rsvps}
    registered = {a.user_id for a in meeting.attendances}
    for membership in _members(meeting.body):
        if membership.user_id in registered:
            continue
        status = (
            AttendanceStatus.EXCUSED
            if answers.get(membership.user_id) == RsvpAnswer.NO
            else AttendanceStatus.ABSENT
        )
        db.session.add(
            Attendance(
                meeting_id=meeting.id,
                user_id=membership.user_id,
                organisation_id=membership.organisation_id,
                status=status,
            )
        )
    db.session.flush()
    db.session.expire(meeting, ["attendances"])
    audit.record(actor, "meeting.started", meeting)
    publish_after_commit(
        room(meeting),
        "meeting.status_changed",
        {
            "meeting_id": meeting.id,
            "status": meeting.status.value,
            "current_item_id": meeting.current_item_id,
        },
    )
    return meeting


def conclude_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    policy.require(actor, "meeting.manage", meeting)
    _status_in(meeting, MeetingStatus.IN_PROGRESS, message=_("Si può chiudere solo un incontro in corso."))
    from ..approvals.models import Ballot, BallotStatus  # votes held in the meeting (the approval chain)

    if (
        db.session.scalar(
            select(Ballot.id)
            .where(Ballot.meeting_id == meeting.id, Ballot.status == BallotStatus.OPEN)
            .limit(1)
        )
        is not None
    ):
        raise Invalid(_("C'è una votazione ancora aperta: chiudila prima di concludere l'incontro."))
    meeting.status = MeetingStatus.CONCLUDED
    meeting.concluded_at = utcnow()
    meeting.checkin_code = None
    meeting.current_item_id = None
    audit.record(actor, "meeting.concluded", meeting)
    publish_after_commit(
        room(meeting), "meeting.status_changed", {"meeting_id": meeting.id, "status": meeting.status.value}
    )
    return meeting


def set_current_item(meeting: Meeting, item_id: int, *, actor: User) -> AgendaItem:
    policy.require(actor, "meeting.manage", meeting)
    _status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        message=_("Il punto in discussione si indica solo a incontro in corso."),
    )
    item = _item(meeting, item_id)
    meeting.current_item_id = item.id
    audit.record(actor, "meeting.item_current", meeting, {"item_id": item.id})
    publish_after_commit(
        room(meeting),
        "meeting.item_changed",
        {"meeting_id": meeting.id, "item_id": item.id, "position": item.position, "title": item.title},
    )
    return item


def _attendance_changed(meeting: Meeting) -> None:
    db.session.flush()
    db.session.expire(meeting, ["attendances"])
    state = quorum(meeting)
    publish_after_commit(
        room(meeting), "meeting.attendance_changed", {"meeting_id": meeting.id, "quorum": state.as_dict()}
    )


def _row(meeting: Meeting, user_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.user_id == user_id)
    )


def _check_delegate(meeting: Meeting, delegate: User, member_id: int) -> Membership:
    member = db.session.scalar(
        select(Membership).where(
            Membership.body_id == meeting.body_id,
            Membership.user_id == member_id,
            Membership.ended_at.is_(None),
        )
    )
    if member is None:
        raise Invalid(
            errors={"stands_for_id": _("La persona rappresentata non è componente di questo organismo.")}
        )
    same_org = db.session.scalar(
        select(Affiliation.id).where(
            Affiliation.user_id == delegate.id, Affiliation.organisation_id == member.organisation_id
        )
    )
    if not same_org:
        org = db.session.get(Organisation, member.organisation_id)
        raise Invalid(
            errors={
                "stands_for_id": _(
                    "Un delegato deve appartenere allo stesso ente della persona che rappresenta (%(org)s).",
                    org=org.name if org else "",
                )
            }
        )
    return member


def _represent(
    meeting: Meeting, delegate: User, member: Membership, now: datetime, *, self_checkin: bool
) -> Attendance:
    row = Attendance(
        meeting_id=meeting.id,
        user_id=delegate.id,
        organisation_id=member.organisation_id,
        status=AttendanceStatus.PRESENT,
        stands_for_id=member.user_id,
        arrived_at=now,
        self_checkin=self_checkin,
    )
    db.session.add(row)
    member_row = _row(meeting, member.user_id)
    if member_row is not None and member_row.status != AttendanceStatus.PRESENT:
        member_row.status = AttendanceStatus.REPRESENTED
    return row


def check_in(meeting: Meeting, code: str, *, actor: User, now: datetime | None = None) -> Attendance:
    """Self check-in with the short code shown in the room, valid only while the meeting is in progress."""
    policy.require(actor, "meeting.checkin", meeting)
    _not_frozen(meeting)
    if meeting.status != MeetingStatus.IN_PROGRESS or not meeting.checkin_code:
        raise Invalid(
            errors={"code": _("Il codice è scaduto: la registrazione è possibile solo durante l'incontro.")}
        )
    if (code or "").strip().upper().replace(" ", "") != meeting.checkin_code:
        raise Invalid(errors={"code": _("Codice non valido: controlla il codice mostrato in sala.")})
    now = now or utcnow()
    row = _row(meeting, actor.id)
    if row is not None and row.status == AttendanceStatus.PRESENT:
        raise Invalid(errors={"code": _("La tua presenza è già registrata.")})
    if row is None:
        membership = policy.membership(actor, meeting.body)
        if membership is not None:
            row = Attendance(
                meeting_id=meeting.id, user_id=actor.id, organisation_id=membership.organisation_id
            )
            db.session.add(row)
        else:
            rsvp = db.session.scalar(
                select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.delegate_id == actor.id)
            )
            if rsvp is None:
                raise Invalid(errors={"code": _("Non risulti tra i convocati di questo incontro.")})
            member = _check_delegate(meeting, actor, rsvp.user_id)
            row = _represent(meeting, actor, member, now, self_checkin=True)
            audit.record(actor, "meeting.checked_in", meeting, {"stands_for_id": member.user_id})
            _attendance_changed(meeting)
            return row
    row.status = AttendanceStatus.PRESENT
    row.arrived_at = now
    row.left_at = None
    row.self_checkin = True
    audit.record(actor, "meeting.checked_in", meeting)
    _attendance_changed(meeting)
    return row


MARKS = ("presente", "assente", "giustificato", "ritardo", "uscita")


def register_attendance(
    meeting: Meeting,
    user_id: int,
    *,
    stands_for_id: int | None = None,
    actor: User,
    now: datetime | None = None,
) -> Attendance:
    """Adds a person to the sheet as present: a member, or a delegate standing for a member of their organisation."""
    policy.require(actor, "meeting.manage", meeting)
    _not_frozen(meeting)
    _status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Le presenze si registrano a incontro avviato."),
    )
    person = db.session.get(User, user_id) if user_id else None
    if person is None:
        raise Invalid(errors={"user_id": _("Scegli la persona da registrare.")})
    if _row(meeting, person.id) is not None:
        raise Invalid(
            errors={"user_id": _("%(name)s è già registrato in questo incontro.", name=person.full_name)}
        )
    now = now or utcnow()
    if stands_for_id:
        member = _check_delegate(meeting, person, stands_for_id)
        row = _represent(meeting, person, member, now, self_checkin=False)
    else:
        membership = policy.membership(person, meeting.body)
        if membership is None:
            raise Invalid(
                errors={
                    "user_id": _(
                        "%(name)s non è componente: registralo come delegato di un componente del suo ente.",
                        name=person.full_name,
                    )
                }
            )
        row = Attendance(
            meeting_id=meeting.id,
            user_id=person.id,
            organisation_id=membership.organisation_id,
            status=AttendanceStatus.PRESENT,
            arrived_at=now,
        )
        db.session.add(row)
    audit.record(
        actor,
        "meeting.attendance_registered",
        meeting,
        {"user_id": person.id, "stands_for_id": stands_for_id},
    )
    _attendance_changed(meeting)
    return row


def mark_attendance(
    meeting: Meeting,
    attendance_id: int,
    mark: str,
    at: time | None = None,
    *,
    actor: User,
    now: datetime | None = None,
) -> Attendance:
    """present / absent / excused / late arrival (time) / early leave (time), entered in Europe/Rome."""
    policy.require(actor, "meeting.manage", meeting)
    _not_frozen(meeting)
    _status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Le presenze si registrano a incontro avviato."),
    )
    row = db.session.get(Attendance, attendance_id)
    if row is None or row.meeting_id != meeting.id:
        raise NotFound(_("Questa presenza non appartiene all'incontro."))
    if mark not in MARKS:
        raise Invalid(errors={"mark": _("Scegli uno stato valido.")})
    moment = local_to_utc(local(meeting.starts_at).date(), at) if at else (now or utcnow())
    if mark == "presente":
        row.status, row.left_at = AttendanceStatus.PRESENT, None
        row.arrived_at = row.arrived_at or min(moment, meeting.starts_at)
    elif mark == "ritardo":
        row.status, row.arrived_at, row.left_at = AttendanceStatus.PRESENT, moment, None
    elif mark == "uscita":
        if row.status != AttendanceStatus.PRESENT:
            raise Invalid(errors={"mark": _("Si può registrare l'uscita solo di chi è presente.")})
        row.left_at = moment
    else:
        row.status, row.arrived_at, row.left_at = AttendanceStatus(mark), None, None
    audit.record(actor, "meeting.attendance_marked", meeting, {"attendance_id": row.id, "mark": mark})
    _attendance_changed(meeting)
    return row


# --- quorum ----------------------------------------------------------------------------------------


@dataclass
class QuorumState:
    kind: QuorumKind
    weighted: bool
    total: int = 0
    present: int = 0
    required: int = 0
    seats_total: int = 0
    seats_present: int = 0
    present_orgs: list[str] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        return self.kind != QuorumKind.NONE

    @property
    def reached(self) -> bool:
        return self.applies and self.present >= self.required

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "weighted": self.weighted,
            "total": self.total,
            "present": self.present,
            "required": self.required,
            "reached": self.reached,
            "applies": self.applies,
            "seats_total": self.seats_total,
            "seats_present": self.seats_present,
        }


def rule_for(body: Body) -> QuorumRule:
    found = db.session.scalar(select(QuorumRule).where(QuorumRule.body_id == body.id))
    return found or QuorumRule(
        body_id=body.id,
        kind=QuorumKind.NONE,
        numerator=1,
        denominator=2,
        weighted=False,
        majority=MajorityKind.PRESENT,
    )


def seat_weight(rule: QuorumRule, org: Organisation) -> int:
    """What a seat weighs: one, or the population of the comune the organisation is, if the rule weighs."""
    if not rule.weighted:
        return 1
    return (org.comune.population or 0) if org.comune is not None else 0


def quorum(meeting: Meeting) -> QuorumState:
    """Seats are the organisations of the members (a comune for the mayors' bodies), weighted by population
    if the rule says so. A seat counts while someone present stands for it (a member or their delegate)."""
    rule = rule_for(meeting.body)
    seats: dict[int, int] = {}
    names: dict[int, str] = {}
    holders: set[int] = set()  # people holding a seat: their presence (or their delegate's) counts
    for membership in _members(meeting.body):
        if membership.role not in SEAT_ROLES:
            continue
        holders.add(membership.user_id)
        org = membership.organisation
        seats[org.id] = seat_weight(rule, org)
        names[org.id] = org.name
    attendances = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id))
    present = {
        a.organisation_id
        for a in attendances
        if a.counts_now
        and a.organisation_id in seats
        and (a.user_id in holders or a.stands_for_id in holders)
    }
    total = sum(seats.values())
    state = QuorumState(
        kind=rule.kind,
        weighted=rule.weighted,
        total=total,
        present=sum(seats[o] for o in present),
        seats_total=len(seats),
        seats_present=len(present),
        present_orgs=sorted(names[o] for o in present),
    )
    if rule.kind == QuorumKind.MAJORITY:
        state.required = total // 2 + 1
    elif rule.kind == QuorumKind.FRACTION:
        state.required = -(-total * rule.numerator // rule.denominator)  # ceiling
    return state


def configure_quorum(
    body: Body,
    kind: QuorumKind,
    numerator: int,
    denominator: int,
    weighted: bool,
    *,
    majority: MajorityKind = MajorityKind.PRESENT,
    actor: User,
) -> QuorumRule:
    policy.require(actor, "meeting.quorum.configure", body)
    if kind == QuorumKind.FRACTION and not (1 <= numerator <= denominator and denominator <= 100):
        raise Invalid(errors={"numerator": _("La frazione deve essere tra 1/100 e 1 (ad esempio 2/3).")})
    rule = db.session.scalar(select(QuorumRule).where(QuorumRule.body_id == body.id))
    if rule is None:
        rule = QuorumRule(body_id=body.id)
        db.session.add(rule)
    rule.kind, rule.numerator, rule.denominator, rule.weighted = kind, numerator, denominator, weighted
    rule.majority = majority
    db.session.flush()
    audit.record(
        actor,
        "meeting.quorum_configured",
        body,
        {
            "kind": kind.value,
            "fraction": f"{numerator}/{denominator}",
            "weighted": weighted,
            "majority": majority.value,
        },
    )
    return rule


# --- minutes ---------------------------------------------------------------------------------------


def _minutes_open(meeting: Meeting) -> None:
    _not_frozen(meeting)
    _status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Il verbale si scrive durante o dopo l'incontro."),
    )


def minutes_writable(meeting: Meeting) -> bool:
    """Whether the minutes may be written now (by whoever the policy allows): during or after the meeting,
    until they are approved. The same moment `_minutes_open` guards."""
    return not meeting.is_frozen and meeting.status in (MeetingStatus.IN_PROGRESS, MeetingStatus.CONCLUDED)


def minutes_doc(meeting: Meeting) -> str:
    """The co-written document of the meeting's minutes (see `meetings.coedit`)."""
    return f"minutes:{meeting.id}"


def _write_text(meeting: Meeting, key: str, change: Callable[[str], str], *, actor: User) -> None:
    """Change one text of the minutes inside the caller's transaction, through the co-writing engine: it is
    stored with the caller's other changes and reaches the open editors only if the transaction commits."""
    from ..coedit import engine

    engine.write_in_transaction(minutes_doc(meeting), key, change, actor=actor)


def append_minutes(meeting: Meeting, item_id: int, text: str, *, actor: User) -> AgendaItem:
    """Add a paragraph at the end of an item's minutes (e.g. a ballot's outcome) as co-written text by `actor`,
    in the caller's transaction (see `_write_text`)."""
    policy.require(actor, "meeting.minutes.write", meeting)
    _minutes_open(meeting)
    item = _item(meeting, item_id)
    paragraph = (text or "").strip()
    if not paragraph:
        return item

    def append(current: str) -> str:
        if paragraph in current:
            return current  # already there (written in the transaction, then the document started from it)
        return (current.rstrip() + "\n\n" if current.strip() else "") + paragraph

    _write_text(meeting, f"item:{item.id}", append, actor=actor)
    return item


def add_decision(meeting: Meeting, item_id: int | None, text: str, *, actor: User) -> Decision:
    policy.require(actor, "meeting.minutes.write", meeting)
    _minutes_open(meeting)
    text = (text or "").strip()
    if not text:
        raise Invalid(errors={"text": _("Scrivi il testo della decisione.")})
    item = _item(meeting, item_id) if item_id else None
    decision = Decision(
        meeting_id=meeting.id,
        item_id=item.id if item else None,
        text=text[:MAX_DECISION_CHARS],
        author_id=actor.id,
    )
    db.session.add(decision)
    db.session.flush()
    audit.record(actor, "meeting.decision_added", meeting, {"decision_id": decision.id})
    # From now on the text is co-written: put it in the minutes' document unless that already holds it.
    first = decision.text
    _write_text(meeting, f"decision:{decision.id}", lambda current: current or first, actor=actor)
    publish_after_commit(room(meeting), "meeting.minutes_changed", {"meeting_id": meeting.id})
    return decision


def add_action(
    meeting: Meeting,
    item_id: int | None,
    title: str,
    owner_id: int | None,
    organisation_id: int | None,
    due_on: date | None,
    *,
    actor: User,
) -> ActionItem:
    policy.require(actor, "meeting.minutes.write", meeting)
    _minutes_open(meeting)
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Descrivi l'azione da svolgere.")
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        errors["owner_id"] = _("Scegli il responsabile dell'azione.")
    if due_on is not None and due_on < meeting.starts_at.date():  # issue #16 point 3
        errors["due_on"] = _(
            "La scadenza non può essere prima dell'incontro (%(d)s).",
            d=meeting.starts_at.strftime("%d/%m/%Y"),
        )
    if errors:
        raise Invalid(errors=errors)
    assert owner is not None
    orgs = {a.organisation_id for a in owner.affiliations}
    membership = policy.membership(owner, meeting.body)
    if membership is not None:
        orgs.add(membership.organisation_id)
    if organisation_id is None:
        organisation_id = (
            membership.organisation_id if membership is not None else next(iter(sorted(orgs)), None)
        )
    if organisation_id not in orgs:
        raise Invalid(errors={"organisation_id": _("Il responsabile non appartiene a questo ente.")})
    item = _item(meeting, item_id) if item_id else None
    action = ActionItem(
        meeting_id=meeting.id,
        item_id=item.id if item else None,
        title=title[:300],
        owner_id=owner.id,
        organisation_id=organisation_id,
        due_on=due_on,
    )
    db.session.add(action)
    db.session.flush()
    audit.record(actor, "meeting.action_added", meeting, {"action_id": action.id, "owner_id": owner.id})
    publish_after_commit(room(meeting), "meeting.minutes_changed", {"meeting_id": meeting.id})
    return action


def set_action_status(meeting: Meeting, action_id: int, status: ActionStatus, *, actor: User) -> ActionItem:
    """Follow-up of an action goes on after the minutes are approved: only its status changes."""
    action = db.session.get(ActionItem, action_id)
    if action is None or action.meeting_id != meeting.id:
        raise NotFound(_("Questa azione non appartiene all'incontro."))
    if action.owner_id != actor.id:
        policy.require(actor, "meeting.minutes.write", meeting)
    action.status = status
    action.completed_at = utcnow() if status == ActionStatus.DONE else None
    audit.record(actor, "meeting.action_status", meeting, {"action_id": action.id, "status": status.value})
    return action


def approve_minutes(meeting: Meeting, approving_meeting_id: int | None, *, actor: User) -> Meeting:
    """The body approves the minutes at a later meeting (recorded); minutes and attendance are then frozen."""
    policy.require(actor, "meeting.manage", meeting)
    if meeting.is_frozen:
        raise Invalid(_("Il verbale è già stato approvato."))
    _status_in(meeting, MeetingStatus.CONCLUDED, message=_("Si approva il verbale di un incontro concluso."))
    later = db.session.get(Meeting, approving_meeting_id) if approving_meeting_id else None
    if later is None or later.body_id != meeting.body_id or later.starts_at <= meeting.starts_at:
        raise Invalid(
            errors={"approving_meeting_id": _("Scegli un incontro successivo dello stesso organismo.")}
        )
    if later.status not in (MeetingStatus.IN_PROGRESS, MeetingStatus.CONCLUDED):
        raise Invalid(
            errors={
                "approving_meeting_id": _(
                    "Il verbale si approva durante un incontro successivo già iniziato o concluso."
                )
            }
        )
    meeting.minutes_status = MinutesStatus.APPROVED
    meeting.minutes_approved_at = utcnow()
    meeting.minutes_approved_in_id = later.id
    meeting.minutes_approved_by_id = actor.id
    meeting.checkin_code = None
    audit.record(actor, "meeting.minutes_approved", meeting, {"approved_in": later.id})
    publish_after_commit(
        room(meeting), "meeting.minutes_approved", {"meeting_id": meeting.id, "approved_in": later.id}
    )
    return meeting


def approving_candidates(meeting: Meeting) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.body_id == meeting.body_id,
                Meeting.starts_at > meeting.starts_at,
                Meeting.status.in_([MeetingStatus.IN_PROGRESS, MeetingStatus.CONCLUDED]),
            )
            .order_by(Meeting.starts_at)
        )
    )


# --- calendar feed ---------------------------------------------------------------------------------


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


def base_url() -> str:
    return current_app.config["PDZ_BASE_URL"].rstrip("/")
