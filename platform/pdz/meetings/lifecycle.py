"""A meeting's life: scheduled in draft, convened (everyone notified), changed, cancelled, started (the
attendance sheet and the check-in code), the item under discussion, concluded."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from .. import audit, policy, signals
from ..accounts.models import User
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..formatting import format_local
from ..notifications import services as notifications
from ..notifications.models import NotificationKind
from ..realtime import publish_after_commit
from ..tavoli.models import Body
from . import ics
from .attendance import new_code
from .common import check_url, find_item, local_to_utc, members, room, status_in
from .models import AgendaItem, Attendance, AttendanceStatus, Meeting, MeetingStatus, RsvpAnswer


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
    video_url = check_url(video_url, "video_url")
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
        *[line for _receiver, lines in signals.meeting_mail_lines.send(meeting) for line in lines],
        "",
        _("Rispondi (partecipo / non partecipo / delego) qui: %(url)s", url=ics.meeting_url(meeting)),
    ]
    body = "\n".join(lines)
    recipients = {m.user_id: m.user for m in members(meeting.body) if m.user.active}
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
    status_in(
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
    status_in(
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
    status_in(
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


def start_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    """Opens the meeting: a check-in code, and an attendance sheet with every member (absent until marked)."""
    policy.require(actor, "meeting.manage", meeting)
    status_in(meeting, MeetingStatus.CONVENED, message=_("Si può avviare solo un incontro convocato."))
    meeting.status = MeetingStatus.IN_PROGRESS
    meeting.started_at = utcnow()
    meeting.checkin_code = new_code()
    meeting.current_item_id = meeting.items[0].id if meeting.items else None
    answers = {r.user_id: r.answer for r in meeting.rsvps}
    registered = {a.user_id for a in meeting.attendances}
    for membership in members(meeting.body):
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
    status_in(meeting, MeetingStatus.IN_PROGRESS, message=_("Si può chiudere solo un incontro in corso."))
    signals.meeting_concluding.send(meeting)  # the approval chain refuses while a vote is open in it
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
    status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        message=_("Il punto in discussione si indica solo a incontro in corso."),
    )
    item = find_item(meeting, item_id)
    meeting.current_item_id = item.id
    audit.record(actor, "meeting.item_current", meeting, {"item_id": item.id})
    publish_after_commit(
        room(meeting),
        "meeting.item_changed",
        {"meeting_id": meeting.id, "item_id": item.id, "position": item.position, "title": item.title},
    )
    return item
