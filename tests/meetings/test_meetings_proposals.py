"""The agenda drafted together (issue #16 point 6), through HTTP: members propose items with a description and
the cards they concern while the meeting is a draft; co-coordinators accept (the item joins the agenda, then
they reorder it) or decline with a reason; everyone reading the body sees the proposals and their state before
the convocation (docs/meetings.md). Observers and outsiders may not propose; members may not decide."""

from __future__ import annotations

from meetings_support import add_item, create_meeting, future_day, load, text
from sqlalchemy import func, select

MEMBER, OBSERVER, OUTSIDER = "membro@example.org", "osservatore@example.org", "disabilita@example.org"
COORD, CO_COORD = "coord.pubblico@example.org", "coord.ets@example.org"


def _proposals(db, meeting_id):
    from pdz.meetings.models import AgendaProposal

    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AgendaProposal).where(AgendaProposal.meeting_id == meeting_id).order_by(AgendaProposal.id)
        )
    )


def _counts(db):
    """What a refused request must leave untouched."""
    from pdz.audit import AuditEntry
    from pdz.meetings.models import AgendaItem, AgendaProposal
    from pdz.notifications.models import Notification

    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (AgendaProposal, AgendaItem, AuditEntry, Notification)
    )


def _card(db, tavolo):
    from pdz.cards.models import Card

    return db.session.scalar(select(Card).where(Card.body_id == tavolo.id).order_by(Card.id))


def _propose(
    client, meeting_id, title="Sportello casa", description="Serve un punto sugli sfratti.", **extra
):
    data = {"proposta-title": title, "proposta-description": description, **extra}
    return client.post(f"/incontri/{meeting_id}/proposte", data=data)


def _draft(client_as, tavolo, title="Incontro di gennaio"):
    coord = client_as(COORD)
    meeting_id = create_meeting(coord, tavolo.id, day=future_day(12), title=title)
    add_item(coord, meeting_id, "Apertura")
    return coord, meeting_id


def test_a_member_proposes_and_the_co_coordinators_hear_of_it(app, db, client_as, tavolo, user):
    from pdz.audit import AuditEntry
    from pdz.meetings.models import ProposalStatus
    from pdz.notifications.models import Notification
    from pdz.realtime import LiveEvent

    coord, meeting_id = _draft(client_as, tavolo)
    member = client_as(MEMBER)
    card = _card(db, tavolo)

    # The member finds the draft in the tavolo's list and opens its draft agenda.
    listing = text(member.get(f"/tavoli/{tavolo.id}/incontri"))
    assert "Incontro di gennaio" in listing and "puoi proporre punti" in listing
    page = text(member.get(f"/incontri/{meeting_id}"))
    assert "Apertura" in page and "Proponi un punto" in page

    response = _propose(member, meeting_id, **{"proposta-cards": [str(card.id)]})
    assert response.status_code == 302 and response.headers["Location"].endswith("#proposte")
    [proposal] = _proposals(db, meeting_id)
    assert proposal.status == ProposalStatus.PENDING
    assert proposal.proposer_id == user(MEMBER).id and proposal.title == "Sportello casa"

    # Both co-coordinators are told, in PdZ; the proposer is not.
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(
                Notification.target_kind == "meeting", Notification.target_id == meeting_id
            )
        )
    )
    assert told == {user(COORD).id, user(CO_COORD).id}
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "meeting.item_proposed", AuditEntry.object_id == meeting_id
        )
    )
    assert db.session.scalar(
        select(LiveEvent).where(
            LiveEvent.room == f"meeting:{meeting_id}", LiveEvent.name == "meeting.proposal_changed"
        )
    )

    # Everyone reading the body sees the proposal, its cards and its state, before the convocation.
    for client in (member, client_as(OBSERVER), coord):
        page = text(client.get(f"/incontri/{meeting_id}"))
        assert "Sportello casa" in page and "Proposta, da valutare" in page and card.title in page
    # The observer reads but has no proposal form; the co-coordinator has the buttons to decide.
    assert "Proponi un punto" not in text(client_as(OBSERVER).get(f"/incontri/{meeting_id}"))
    assert f'data-testid="accept-{proposal.id}"' in text(coord.get(f"/incontri/{meeting_id}"))
    assert f'data-testid="accept-{proposal.id}"' not in text(member.get(f"/incontri/{meeting_id}"))


def test_observers_and_outsiders_may_not_propose(app, db, client_as, tavolo):
    _coord, meeting_id = _draft(client_as, tavolo)
    observer, outsider = client_as(OBSERVER), client_as(OUTSIDER)  # signing in is audited: before counting
    before = _counts(db)
    assert _propose(observer, meeting_id).status_code == 403
    assert _propose(outsider, meeting_id).status_code == 403
    assert _counts(db) == before


def test_members_may_not_accept_or_decline(app, db, client_as, tavolo):
    _coord, meeting_id = _draft(client_as, tavolo)
    member = client_as(MEMBER)
    assert _propose(member, meeting_id).status_code == 302
    [proposal] = _proposals(db, meeting_id)
    before = _counts(db)
    for path in ("accetta", "respingi"):
        response = member.post(
            f"/incontri/{meeting_id}/proposte/{path}", data={"proposal_id": proposal.id, "reason": "no"}
        )
        assert response.status_code == 403
    assert _counts(db) == before and _proposals(db, meeting_id)[0].status.value == "proposta"


def test_accepting_puts_the_item_last_and_the_co_coordinator_reorders(app, db, client_as, tavolo, user):
    from pdz.meetings.agenda import load_item_cards
    from pdz.notifications.models import Notification

    coord, meeting_id = _draft(client_as, tavolo)
    card = _card(db, tavolo)
    member = client_as(MEMBER)
    assert _propose(member, meeting_id, **{"proposta-cards": [str(card.id)]}).status_code == 302
    [proposal] = _proposals(db, meeting_id)

    co_coord = client_as(CO_COORD)
    response = co_coord.post(f"/incontri/{meeting_id}/proposte/accetta", data={"proposal_id": proposal.id})
    assert response.status_code == 302
    meeting = load(db, meeting_id)
    assert [i.title for i in meeting.items] == ["Apertura", "Sportello casa"]
    added = meeting.items[1]
    assert added.description == "Serve un punto sugli sfratti." and added.presenter == user(MEMBER).full_name
    assert [c.id for c in load_item_cards(added)] == [card.id]
    [proposal] = _proposals(db, meeting_id)
    assert proposal.status.value == "accettata" and proposal.item_id == added.id
    assert proposal.decided_by_id == user(CO_COORD).id
    # The proposer hears of it.
    assert db.session.scalar(
        select(Notification).where(
            Notification.user_id == user(MEMBER).id, Notification.target_id == meeting_id
        )
    )
    # Reordering: the accepted item moves up like any other.
    response = coord.post(
        f"/incontri/{meeting_id}/ordine-del-giorno/{added.id}/sposta", data={"direction": "up"}
    )
    assert response.status_code == 302
    assert [i.title for i in load(db, meeting_id).items] == ["Sportello casa", "Apertura"]
    assert "Accettata" in text(member.get(f"/incontri/{meeting_id}"))

    # A proposal is decided once.
    before = _counts(db)
    again = co_coord.post(f"/incontri/{meeting_id}/proposte/accetta", data={"proposal_id": proposal.id})
    assert again.status_code == 422 and "già stata valutata" in text(again)
    assert _counts(db) == before


def test_declining_needs_a_reason_the_proposer_reads(app, db, client_as, tavolo):
    coord, meeting_id = _draft(client_as, tavolo)
    member = client_as(MEMBER)
    assert _propose(member, meeting_id, title="Gita al lago").status_code == 302
    [proposal] = _proposals(db, meeting_id)

    before = _counts(db)
    response = coord.post(
        f"/incontri/{meeting_id}/proposte/respingi", data={"proposal_id": proposal.id, "reason": "  "}
    )
    assert response.status_code == 422 and "Scrivi il motivo" in text(response)
    assert _counts(db) == before and _proposals(db, meeting_id)[0].status.value == "proposta"

    reason = "Non riguarda il mandato del tavolo: proponila alla consulta."
    response = coord.post(
        f"/incontri/{meeting_id}/proposte/respingi", data={"proposal_id": proposal.id, "reason": reason}
    )
    assert response.status_code == 302
    [proposal] = _proposals(db, meeting_id)
    assert proposal.status.value == "respinta" and proposal.reason == reason
    assert [i.title for i in load(db, meeting_id).items] == ["Apertura"]
    page = text(member.get(f"/incontri/{meeting_id}"))
    assert "Respinta" in page and reason in page


def test_bad_proposals_are_refused_with_their_message(app, db, client_as, tavolo):
    from pdz.cards.models import Card

    coord, meeting_id = _draft(client_as, tavolo)
    member = client_as(MEMBER)
    before = _counts(db)
    response = _propose(member, meeting_id, title="", description="")
    assert response.status_code == 422
    page = text(response)
    assert "Indica il titolo del punto che proponi." in page and "Spiega in breve" in page
    # A card of another tavolo cannot be named on a tavolo's agenda.
    other = db.session.scalar(select(Card).where(Card.body_id != tavolo.id).order_by(Card.id))
    response = _propose(member, meeting_id, **{"proposta-cards": [str(other.id)]})
    assert response.status_code == 422 and "La scheda non è visibile a questo organismo." in text(response)
    # Not a proposal of this meeting.
    response = coord.post(f"/incontri/{meeting_id}/proposte/accetta", data={"proposal_id": "999999"})
    assert response.status_code == 422 and "non riguarda questo incontro" in text(response)
    assert _counts(db) == before


def test_proposals_close_with_the_convocation_and_decisions_with_the_start(app, db, client_as, tavolo):
    coord, meeting_id = _draft(client_as, tavolo)
    member = client_as(MEMBER)
    assert _propose(member, meeting_id, title="Primo").status_code == 302
    assert _propose(member, meeting_id, title="Secondo").status_code == 302
    first, second = _proposals(db, meeting_id)
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302

    # Convened: no new proposals (the agenda went out with the convocation)...
    before = _counts(db)
    response = _propose(member, meeting_id, title="Terzo")
    assert response.status_code == 422 and "finché l'incontro è in bozza" in text(response)
    assert _counts(db) == before
    assert "Proponi un punto" not in text(member.get(f"/incontri/{meeting_id}"))
    # ... but the agenda can still change until the start: a pending proposal may still be accepted.
    assert (
        coord.post(f"/incontri/{meeting_id}/proposte/accetta", data={"proposal_id": first.id}).status_code
        == 302
    )
    assert coord.post(f"/incontri/{meeting_id}/avvia").status_code == 302

    # Started: nothing is decided any more.
    before = _counts(db)
    response = coord.post(
        f"/incontri/{meeting_id}/proposte/respingi", data={"proposal_id": second.id, "reason": "tardi"}
    )
    assert response.status_code == 422 and "prima dell'inizio" in text(response)
    assert _counts(db) == before and _proposals(db, meeting_id)[1].status.value == "proposta"
