"""Agenda items link the cards discussed: only cards the body can see, shown on the meeting page."""

from __future__ import annotations

from meetings_support import add_item, create_meeting, load, text
from sqlalchemy import func, select

REFUSED = "La scheda non è visibile a questo organismo."


def _card(db, body_name: str, key: str):
    from pdz.cards.models import Card
    from pdz.tavoli.models import Body

    return db.session.scalar(
        select(Card).join(Body, Body.id == Card.body_id).where(Body.name == body_name, Card.key == key)
    )


def _links(db, meeting_id: int) -> list[tuple[int, int]]:
    from pdz.meetings.models import AgendaItem, agenda_item_cards

    db.session.expire_all()
    return sorted(
        db.session.execute(
            select(agenda_item_cards.c.agenda_item_id, agenda_item_cards.c.card_id)
            .join(AgendaItem, AgendaItem.id == agenda_item_cards.c.agenda_item_id)
            .where(AgendaItem.meeting_id == meeting_id)
        ).all()
    )


def test_coordinator_links_cards_of_the_tavolo_through_the_agenda_forms(db, client_as, tavolo):
    coord = client_as("coord.pubblico@example.org")
    card_a, card_emerg = _card(db, "Tavolo Povertà", "A"), _card(db, "Tavolo Povertà", "L-EMERG")
    other = _card(db, "Tavolo Permanente Disabilità", "J")
    meeting_id = create_meeting(coord, tavolo.id)

    page = text(coord.get(f"/incontri/{meeting_id}"))
    assert card_a.title in page and card_emerg.title in page  # offered by the add form
    assert other.title not in page  # another tavolo's card is not offered

    add_item(coord, meeting_id, "Schede del tavolo", cards=str(card_a.id))
    item = load(db, meeting_id).items[0]
    assert _links(db, meeting_id) == [(item.id, card_a.id)]

    form = text(coord.get(f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}"))
    assert f'value="{card_a.id}" checked' in form  # a ticked checkbox (issue #16 point 6)
    response = coord.post(
        f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}",
        data={"version": "1", "title": "Schede del tavolo", "cards": [str(card_emerg.id), str(card_a.id)]},
    )
    assert response.status_code == 302, text(response)[:2000]
    assert _links(db, meeting_id) == sorted([(item.id, card_a.id), (item.id, card_emerg.id)])

    response = coord.post(
        f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}", data={"version": "2", "title": "Senza schede"}
    )
    assert response.status_code == 302
    assert _links(db, meeting_id) == []

    # Deleting an item deletes its links (database cascade), not the cards.
    coord.post(
        f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}",
        data={"version": "3", "title": "Senza schede", "cards": str(card_a.id)},
    )
    assert coord.post(f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}/elimina").status_code == 302
    assert _links(db, meeting_id) == [] and _card(db, "Tavolo Povertà", "A") is not None


def test_another_tavolo_card_is_refused_and_nothing_changes(db, client_as, tavolo):
    from pdz.audit import AuditEntry
    from pdz.meetings.models import AgendaItem

    coord, udp = client_as("coord.pubblico@example.org"), client_as("udp@example.org")
    card_a, other = _card(db, "Tavolo Povertà", "A"), _card(db, "Tavolo Permanente Disabilità", "J")
    meeting_id = create_meeting(coord, tavolo.id)
    add_item(coord, meeting_id, "Apertura", cards=str(card_a.id))
    item = load(db, meeting_id).items[0]

    def state():
        db.session.expire_all()
        return (
            _links(db, meeting_id),
            db.session.scalar(select(func.count(AgendaItem.id)).where(AgendaItem.meeting_id == meeting_id)),
            db.session.scalar(select(func.count(AuditEntry.id))),
            db.session.get(AgendaItem, item.id).version,
        )

    before = state()
    # UdP staff can see every card, yet a tavolo's agenda only links the tavolo's own cards.
    for client in (coord, udp):
        response = client.post(
            f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Nuovo", "cards": str(other.id)}
        )
        assert response.status_code == 422 and REFUSED in text(response)
        response = client.post(
            f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}",
            data={"version": "1", "title": "Cambiato", "cards": [str(card_a.id), str(other.id)]},
        )
        assert response.status_code == 422 and REFUSED in text(response)
    for bad in ("999999", "abc"):
        response = coord.post(
            f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Nuovo", "cards": bad}
        )
        assert response.status_code == 422 and REFUSED in text(response)
    assert state() == before
    assert db.session.get(AgendaItem, item.id).title == "Apertura"


def test_governance_agenda_links_cards_of_any_tavolo(db, client_as, body):
    udp = client_as("udp@example.org")
    integrato = body("Ufficio di Piano Integrato")
    card_a, other = _card(db, "Tavolo Povertà", "A"), _card(db, "Tavolo Permanente Disabilità", "J")
    meeting_id = create_meeting(udp, integrato.id)
    add_item(udp, meeting_id, "Schede dei tavoli", cards=[str(card_a.id), str(other.id)])
    item = load(db, meeting_id).items[0]
    assert _links(db, meeting_id) == sorted([(item.id, card_a.id), (item.id, other.id)])


def test_meeting_page_shows_linked_cards_with_title_and_area(db, client_as, tavolo):
    from pdz.cards.models import Card

    coord = client_as("coord.pubblico@example.org")
    card_a = _card(db, "Tavolo Povertà", "A")
    meeting_id = create_meeting(coord, tavolo.id)
    add_item(coord, meeting_id, "Schede", cards=str(card_a.id))
    from sqlalchemy.orm import selectinload

    card = db.session.scalar(select(Card).where(Card.id == card_a.id).options(selectinload(Card.area)))
    for viewer in ("coord.pubblico@example.org", "membro@example.org", "osservatore@example.org"):
        page = text(client_as(viewer).get(f"/incontri/{meeting_id}"))
        assert f'href="/schede/{card.id}"' in page and card.title in page, viewer
        if card.area is not None:
            assert card.area.name in page


def test_demo_links_each_tavolo_card_to_a_past_meeting(app, db):
    from pdz.cards.models import Card
    from pdz.meetings.models import AgendaItem, Meeting, MeetingStatus, agenda_item_cards
    from pdz.tavoli.models import Body

    def rows():
        db.session.expire_all()
        return sorted(
            db.session.execute(
                select(agenda_item_cards.c.card_id, Card.body_id, Meeting.body_id, Meeting.status)
                .join(Card, Card.id == agenda_item_cards.c.card_id)
                .join(AgendaItem, AgendaItem.id == agenda_item_cards.c.agenda_item_id)
                .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            ).all()
        )

    before = rows()
    thematic_cards = [
        c for c in db.session.scalars(select(Card).join(Body, Body.id == Card.body_id)) if c.body.is_thematic
    ]
    assert {r[0] for r in before} == {c.id for c in thematic_cards}
    assert all(
        card_body == meeting_body and status == MeetingStatus.CONCLUDED
        for _, card_body, meeting_body, status in before
    )
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert rows() == before


def test_only_coordinators_edit_the_agenda_links(db, client_as, tavolo):
    coord = client_as("coord.pubblico@example.org")
    card_a = _card(db, "Tavolo Povertà", "A")
    meeting_id = create_meeting(coord, tavolo.id)
    add_item(coord, meeting_id, "Apertura")
    item = load(db, meeting_id).items[0]
    for email in ("membro@example.org", "osservatore@example.org", "disabilita@example.org"):
        client = client_as(email)
        page = text(client.get(f"/incontri/{meeting_id}")) if email != "disabilita@example.org" else ""
        assert 'name="cards"' not in page
        assert (
            client.post(
                f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Nuovo", "cards": str(card_a.id)}
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}",
                data={"version": "1", "title": "Apertura", "cards": str(card_a.id)},
            ).status_code
            == 403
        )
    assert _links(db, meeting_id) == []
