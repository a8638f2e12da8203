"""The minutes (verbale): co-written text per agenda item, decisions, action items and their follow-up, and the
approval at a later meeting that freezes minutes and attendance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, policy, signals
from ..accounts.models import User
from ..coedit import engine
from ..db import utcnow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..formatting import format_local
from ..realtime import publish_after_commit
from . import attendance
from .common import find_item, not_frozen, room, status_in
from .models import ActionItem, ActionStatus, AgendaItem, Decision, Meeting, MeetingStatus, MinutesStatus

MAX_MINUTES_CHARS = 50_000  # one agenda item's minutes (co-written)
MAX_DECISION_CHARS = 5_000


def _minutes_open(meeting: Meeting) -> None:
    not_frozen(meeting)
    status_in(
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
    engine.write_in_transaction(minutes_doc(meeting), key, change, actor=actor)


def append_minutes(meeting: Meeting, item_id: int, text: str, *, actor: User) -> AgendaItem:
    """Add a paragraph at the end of an item's minutes (e.g. a ballot's outcome) as co-written text by `actor`,
    in the caller's transaction (see `_write_text`)."""
    policy.require(actor, "meeting.minutes.write", meeting)
    _minutes_open(meeting)
    item = find_item(meeting, item_id)
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
    item = find_item(meeting, item_id) if item_id else None
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
    item = find_item(meeting, item_id) if item_id else None
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
    status_in(meeting, MeetingStatus.CONCLUDED, message=_("Si approva il verbale di un incontro concluso."))
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
    db.session.flush()
    signals.minutes_approved.send(meeting, approved_in=later, actor=actor)  # approvals freezes the text
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


def decide_minutes_item(
    meeting: Meeting, item_id: int, *, approve: bool, note: str = "", actor: User
) -> Meeting:
    """Under "Approvazione del verbale della seduta precedente", during the meeting, the co-coordinators record
    what the body decided: the previous minutes are approved (then frozen, with their fingerprint) or changes
    are asked (they stay a draft, to approve at a later meeting). The decision goes into this meeting's
    minutes with the attendance at that moment; where the body has a quorum rule it must be reached."""
    policy.require(actor, "meeting.manage", meeting)
    status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        message=_(
            "Il verbale della seduta precedente si approva durante l'incontro: avvia prima l'incontro."
        ),
    )
    item = find_item(meeting, item_id)
    earlier = db.session.get(Meeting, item.minutes_of_id) if item.minutes_of_id else None
    if earlier is None:
        raise Invalid(_("Questo punto non riguarda l'approvazione di un verbale."))
    if earlier.is_frozen:
        raise Invalid(_("Il verbale è già stato approvato."))
    state = attendance.quorum(meeting)
    if state.applies and not state.reached:
        raise Invalid(
            _("Il numero legale non è raggiunto: il verbale si approva solo con il numero legale presente.")
        )
    present = _("Enti presenti %(p)d su %(n)d.", p=state.seats_present, n=state.seats_total)
    day = format_local(earlier.starts_at, "day")
    if approve:
        approve_minutes(earlier, meeting.id, actor=actor)
        line = _("Il verbale della seduta del %(d)s è approvato. %(p)s", d=day, p=present)
    else:
        text = (note or "").strip()
        if not text:
            raise Invalid(errors={"note": _("Scrivi quali modifiche sono chieste al verbale.")})
        line = _(
            "Sul verbale della seduta del %(d)s sono chieste modifiche: %(n)s %(p)s",
            d=day,
            n=text[: MAX_DECISION_CHARS - 200],
            p=present,
        )
        audit.record(actor, "meeting.minutes_changes_asked", earlier, {"asked_in": meeting.id})
    append_minutes(meeting, item.id, line, actor=actor)
    add_decision(meeting, item.id, line, actor=actor)
    return earlier
