"""Answers to a convocation (RSVP): partecipa / non partecipa / delega to someone of the same organisation."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, policy
from ..accounts.models import Affiliation, User
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..idempotency import insert_once
from ..realtime import publish_after_commit
from .common import room, status_in
from .models import Meeting, MeetingStatus, Rsvp, RsvpAnswer


def answer_invitation(
    meeting: Meeting, answer: RsvpAnswer, delegate_id: int | None = None, *, actor: User
) -> Rsvp:
    policy.require(actor, "meeting.respond", meeting)
    status_in(
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
