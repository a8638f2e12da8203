"""The agenda drafted together: members propose items (a description and the cards they concern) while the
meeting is a draft; co-coordinators accept them (each becomes an agenda item at the end of the agenda, which
they then reorder) or decline them with a reason. Everyone who reads the body sees the proposals and their
state on the meeting page before the convocation.

When: proposing only while the meeting is a draft (the convocation sends the agenda); deciding while the
agenda can still be edited (draft or convened, before the meeting starts)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, policy
from ..accounts.models import User
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..notifications import services as notifications
from ..notifications.models import NotificationKind
from ..realtime import publish_after_commit
from ..tavoli.models import COORDINATOR_ROLES, Membership
from .agenda import agenda_editable, linked_cards
from .common import room, status_in
from .models import AgendaItem, AgendaProposal, Meeting, MeetingStatus, ProposalStatus

MAX_PENDING_PER_PERSON = 10  # open proposals one person may have on one meeting
MAX_REASON_CHARS = 2_000


def proposals(meeting: Meeting) -> list[AgendaProposal]:
    """The meeting's proposals, oldest first, with proposer, decider and cards (for the meeting page)."""
    return list(
        db.session.scalars(
            select(AgendaProposal)
            .where(AgendaProposal.meeting_id == meeting.id)
            .options(
                joinedload(AgendaProposal.proposer),
                joinedload(AgendaProposal.decided_by),
                selectinload(AgendaProposal.cards),
            )
            .order_by(AgendaProposal.id)
        )
    )


def _proposal(meeting: Meeting, proposal_id: int | None) -> AgendaProposal:
    found = (
        db.session.scalar(
            select(AgendaProposal)
            .where(AgendaProposal.id == proposal_id)
            .options(joinedload(AgendaProposal.proposer), selectinload(AgendaProposal.cards))
        )
        if proposal_id
        else None
    )
    if found is None or found.meeting_id != meeting.id:
        raise Invalid(_("Questa proposta non riguarda questo incontro."))
    return found


def _pending(proposal: AgendaProposal) -> None:
    if proposal.status is not ProposalStatus.PENDING:
        raise Invalid(_("Questa proposta è già stata valutata."))


def _changed(meeting: Meeting, proposal: AgendaProposal) -> None:
    publish_after_commit(
        room(meeting),
        "meeting.proposal_changed",
        {"meeting_id": meeting.id, "proposal_id": proposal.id, "status": proposal.status.value},
    )


def _coordinators(meeting: Meeting) -> list[User]:
    rows = db.session.scalars(
        select(Membership)
        .where(
            Membership.body_id == meeting.body_id,
            Membership.ended_at.is_(None),
            Membership.role.in_(list(COORDINATOR_ROLES)),
        )
        .options(selectinload(Membership.user))
    )
    return [row.user for row in rows]


def propose_item(
    meeting: Meeting,
    *,
    title: str,
    description: str = "",
    card_ids: list[int] | None = None,
    actor: User,
) -> AgendaProposal:
    policy.require(actor, "meeting.agenda.propose", meeting)
    status_in(
        meeting,
        MeetingStatus.DRAFT,
        message=_(
            "Le proposte si raccolgono finché l'incontro è in bozza: la convocazione è già stata inviata "
            "con l'ordine del giorno. Scrivi ai co-coordinatori."
        ),
    )
    errors: dict[str, str] = {}
    title = (title or "").strip()
    description = (description or "").strip()
    if not title:
        errors["title"] = _("Indica il titolo del punto che proponi.")
    if not description:
        errors["description"] = _("Spiega in breve di cosa si tratta e perché discuterne.")
    if errors:
        raise Invalid(errors=errors)
    pending = db.session.scalar(
        select(func.count(AgendaProposal.id)).where(
            AgendaProposal.meeting_id == meeting.id,
            AgendaProposal.proposer_id == actor.id,
            AgendaProposal.status == ProposalStatus.PENDING,
        )
    )
    if (pending or 0) >= MAX_PENDING_PER_PERSON:
        raise Invalid(_("Hai già %(n)d proposte da valutare per questo incontro.", n=MAX_PENDING_PER_PERSON))
    cards = linked_cards(meeting, card_ids or [], actor)
    proposal = AgendaProposal(
        meeting_id=meeting.id,
        proposer_id=actor.id,
        proposer=actor,
        title=title[:200],
        description=description[:5000],
        status=ProposalStatus.PENDING,
        cards=cards,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        actor,
        "meeting.item_proposed",
        meeting,
        {"proposal_id": proposal.id, "card_ids": [c.id for c in cards]},
    )
    notifications.notify(
        [
            notifications.Recipient(user, NotificationKind.MEETING, meeting.body)
            for user in _coordinators(meeting)
        ],
        actor=actor,
        target_kind="meeting",
        target_id=meeting.id,
        url=url_for("meetings.detail", meeting_id=meeting.id) + "#proposte",
        text=_(
            "%(name)s propone un punto per «%(m)s»: %(t)s",
            name=actor.full_name,
            m=meeting.title,
            t=proposal.title,
        ),
    )
    _changed(meeting, proposal)
    return proposal


def _tell_proposer(meeting: Meeting, proposal: AgendaProposal, text: str, actor: User) -> None:
    notifications.notify(
        [notifications.Recipient(proposal.proposer, NotificationKind.MEETING, meeting.body)],
        actor=actor,
        target_kind="meeting",
        target_id=meeting.id,
        url=url_for("meetings.detail", meeting_id=meeting.id) + "#proposte",
        text=text,
    )


def accept_proposal(meeting: Meeting, proposal_id: int | None, *, actor: User) -> AgendaItem:
    """The proposal becomes the last agenda item (title, description, cards); the co-coordinators reorder."""
    policy.require(actor, "meeting.agenda.review", meeting)
    agenda_editable(meeting)
    proposal = _proposal(meeting, proposal_id)
    _pending(proposal)
    item = AgendaItem(
        meeting=meeting,
        position=len(meeting.items) + 1,
        title=proposal.title,
        description=proposal.description,
        presenter=proposal.proposer.full_name[:200],
        links=[],
        cards=list(proposal.cards),
    )
    db.session.add(item)
    db.session.flush()
    proposal.status = ProposalStatus.ACCEPTED
    proposal.item_id = item.id
    proposal.decided_by_id, proposal.decided_at = actor.id, utcnow()
    audit.record(
        actor, "meeting.proposal_accepted", meeting, {"proposal_id": proposal.id, "item_id": item.id}
    )
    _tell_proposer(
        meeting,
        proposal,
        _("La tua proposta «%(t)s» è nell'ordine del giorno di «%(m)s».", t=proposal.title, m=meeting.title),
        actor,
    )
    publish_after_commit(room(meeting), "meeting.agenda_changed", {"meeting_id": meeting.id})
    _changed(meeting, proposal)
    return item


def decline_proposal(
    meeting: Meeting, proposal_id: int | None, reason: str, *, actor: User
) -> AgendaProposal:
    policy.require(actor, "meeting.agenda.review", meeting)
    agenda_editable(meeting)
    proposal = _proposal(meeting, proposal_id)
    _pending(proposal)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(errors={"reason": _("Scrivi il motivo: chi ha proposto il punto lo leggerà.")})
    proposal.status = ProposalStatus.DECLINED
    proposal.reason = reason[:MAX_REASON_CHARS]
    proposal.decided_by_id, proposal.decided_at = actor.id, utcnow()
    audit.record(actor, "meeting.proposal_declined", meeting, {"proposal_id": proposal.id})
    _tell_proposer(
        meeting,
        proposal,
        _("La tua proposta «%(t)s» per «%(m)s» non è stata accolta.", t=proposal.title, m=meeting.title),
        actor,
    )
    _changed(meeting, proposal)
    return proposal
