"""Bad input and people without the right role: clear Italian messages, nothing changed."""

from __future__ import annotations

from meetings_support import (
    add_item,
    convened_meeting,
    create_meeting,
    future_day,
    load,
    rome_today,
    started_meeting,
    text,
)
from sqlalchemy import func, select

from conftest import outbox


def _count(db, model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_bad_meeting_details_are_refused(app, db, client_as, tavolo):
    from pdz.meetings.models import AgendaItem, Meeting

    coord = client_as("coord.pubblico@example.org")
    before = _count(db, Meeting)
    url = f"/tavoli/{tavolo.id}/incontri/nuovo"
    cases = [
        (
            {"day": future_day(), "start": "18:00", "end": "17:00", "place": "Crema"},
            "successiva all'ora di inizio",
        ),
        (
            {"day": future_day(), "start": "18:00", "end": "18:00", "place": "Crema"},
            "successiva all'ora di inizio",
        ),
        ({"day": "31/02/2027", "start": "18:00", "end": "19:00", "place": "Crema"}, "Indica la data"),
        ({"day": future_day(), "start": "", "end": "19:00", "place": "Crema"}, "Indica l'ora di inizio"),
        ({"day": future_day(), "start": "17:00", "end": "19:00", "place": ""}, "Indica il luogo"),
        (
            {
                "day": future_day(),
                "start": "17:00",
                "end": "19:00",
                "place": "",
                "video_url": "javascript:alert(1)",
            },
            "http:// o https://",
        ),
    ]
    for data, message in cases:
        response = coord.post(url, data={"title": "Prova", **data})
        assert response.status_code == 422, data
        assert message in text(response), (data, message)
    assert _count(db, Meeting) == before

    meeting_id = create_meeting(coord, tavolo.id)
    items = _count(db, AgendaItem)
    for data, message in [
        ({"title": ""}, "Indica il titolo del punto"),
        ({"title": "Documenti", "links": "Verbale | javascript:alert(1)"}, "http:// o https://"),
        ({"title": "Documenti", "links": "ftp://example.org/a.pdf"}, "http:// o https://"),
        ({"title": "Lungo", "planned_minutes": "9999"}, "tra 1 e 600"),
    ]:
        response = coord.post(f"/incontri/{meeting_id}/ordine-del-giorno", data=data)
        assert response.status_code == 422 and message in text(response), data
    assert _count(db, AgendaItem) == items


def test_past_or_empty_meetings_cannot_be_convened(app, db, client_as, tavolo):
    from pdz.meetings.models import MeetingStatus

    coord = client_as("coord.pubblico@example.org")
    sent = len(outbox(db, "membro@example.org"))
    empty = create_meeting(coord, tavolo.id)
    response = coord.post(f"/incontri/{empty}/convoca")
    assert response.status_code == 422 and "almeno un punto" in text(response)
    yesterday = rome_today().toordinal() - 1
    from datetime import date

    past = create_meeting(coord, tavolo.id, day=date.fromordinal(yesterday).isoformat(), title="Recupero")
    add_item(coord, past, "Punto")
    response = coord.post(f"/incontri/{past}/convoca")
    assert response.status_code == 422 and "nel passato" in text(response)
    assert load(db, past).status == MeetingStatus.DRAFT and load(db, empty).status == MeetingStatus.DRAFT
    assert len(outbox(db, "membro@example.org")) == sent

    # A convened meeting cannot be moved into the past either.
    meeting_id = convened_meeting(coord, tavolo.id)
    response = coord.post(
        f"/incontri/{meeting_id}/modifica",
        data={
            "title": "Prova",
            "day": date.fromordinal(yesterday).isoformat(),
            "start": "17:00",
            "end": "19:00",
            "place": "Crema",
        },
    )
    assert response.status_code == 422 and "nel passato" in text(response)
    assert load(db, meeting_id).sequence == 0
    # Publishing twice is refused.
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 422


def test_check_in_codes_and_double_registration(app, db, client_as, tavolo, user):
    from pdz.meetings.models import Attendance

    coord = client_as("coord.pubblico@example.org")
    member = client_as("membro@example.org")
    meeting_id = convened_meeting(coord, tavolo.id)
    # Before the start there is no valid code.
    response = member.post(f"/incontri/{meeting_id}/registrazione", data={"code": "ABCDEF"})
    assert response.status_code == 422 and "scaduto" in text(response)
    coord.post(f"/incontri/{meeting_id}/avvia")
    code = load(db, meeting_id).checkin_code
    wrong = "".join("A" if ch != "A" else "B" for ch in code)
    response = member.post(f"/incontri/{meeting_id}/registrazione", data={"code": wrong})
    assert response.status_code == 422 and "Codice non valido" in text(response)
    assert member.post(f"/incontri/{meeting_id}/registrazione", data={"code": code}).status_code == 302
    response = member.post(f"/incontri/{meeting_id}/registrazione", data={"code": code})
    assert response.status_code == 422 and "già registrata" in text(response)
    rows = db.session.scalar(
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.meeting_id == meeting_id, Attendance.user_id == user("membro@example.org").id)
    )
    assert rows == 1
    # Outsiders cannot check in even with the right code.
    assert (
        client_as("disabilita@example.org")
        .post(f"/incontri/{meeting_id}/registrazione", data={"code": code})
        .status_code
        == 403
    )
    # After the end the code has expired.
    coord.post(f"/incontri/{meeting_id}/chiudi")
    response = client_as("osservatore@example.org").post(
        f"/incontri/{meeting_id}/registrazione", data={"code": code}
    )
    assert response.status_code == 422 and "scaduto" in text(response)


def test_roles_and_delegation_limits(app, db, client_as, tavolo, user):
    from pdz.meetings.models import Rsvp

    coord = client_as("coord.pubblico@example.org")
    member = client_as("membro@example.org")
    observer = client_as("osservatore@example.org")
    outsider = client_as("disabilita@example.org")
    meeting_id = convened_meeting(coord, tavolo.id)
    # Members and observers do not schedule, edit, publish or run meetings.
    for client in (member, observer):
        assert client.get(f"/tavoli/{tavolo.id}/incontri/nuovo").status_code == 403
        assert client.post(f"/incontri/{meeting_id}/avvia").status_code == 403
        assert (
            client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "x"}).status_code == 403
        )
        assert client.get(f"/incontri/{meeting_id}/regia").status_code == 403
    # Outsiders do not even see it.
    assert outsider.get(f"/incontri/{meeting_id}").status_code == 403
    assert outsider.get(f"/tavoli/{tavolo.id}/incontri").status_code == 403
    assert outsider.post(f"/incontri/{meeting_id}/risposta", data={"answer": "partecipa"}).status_code == 403
    # A delegate must belong to the member's own organisation.
    response = member.post(
        f"/incontri/{meeting_id}/risposta",
        data={"answer": "delega", "delegate_id": str(user("coord.ets@example.org").id)},
    )
    assert response.status_code == 422
    assert "Banco di Solidarietà Cremasco ODV" in text(response)
    response = member.post(f"/incontri/{meeting_id}/risposta", data={"answer": "delega", "delegate_id": ""})
    assert response.status_code == 422 and "Scegli la persona" in text(response)
    response = member.post(f"/incontri/{meeting_id}/risposta", data={"answer": "forse"})
    assert response.status_code == 422 and "Scegli una risposta" in text(response)
    assert db.session.scalar(select(Rsvp).where(Rsvp.meeting_id == meeting_id)) is None
    # UdP staff may run any body's meetings; the mayor of another body may not.
    assert client_as("udp@example.org").post(f"/incontri/{meeting_id}/avvia").status_code == 302
    assert client_as("sindaco@example.org").get(f"/incontri/{meeting_id}/regia").status_code == 403


def test_agenda_co_editing_conflict_loses_nothing(app, db, client_as, tavolo):
    coord = client_as("coord.pubblico@example.org")
    co_coord = client_as("coord.ets@example.org")
    meeting_id = create_meeting(coord, tavolo.id)
    add_item(coord, meeting_id, "Mappatura")
    item = load(db, meeting_id).items[0]
    url = f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}"
    assert (
        coord.post(
            url, data={"version": "1", "title": "Mappatura delle reti", "presenter": "Paolo"}
        ).status_code
        == 302
    )
    response = co_coord.post(url, data={"version": "1", "title": "Mappatura ETS", "presenter": "Chiara"})
    assert response.status_code == 409
    page = text(response)
    assert (
        "qualcun altro ha modificato" in page.lower()
        and "Mappatura ETS" in page
        and "Mappatura delle reti" in page
    )
    item = load(db, meeting_id).items[0]
    assert item.title == "Mappatura delle reti" and item.version == 2
    assert (
        co_coord.post(url, data={"version": "2", "title": "Mappatura delle reti ed ETS"}).status_code == 302
    )
    assert load(db, meeting_id).items[0].title == "Mappatura delle reti ed ETS"


def test_wrong_targets_are_refused(app, db, client_as, tavolo, body):
    from pdz.meetings.models import MinutesStatus

    coord = client_as("coord.pubblico@example.org")
    meeting_id = started_meeting(coord, tavolo.id)
    other_id = convened_meeting(coord, tavolo.id, day=future_day(20))
    foreign_item = load(db, other_id).items[0].id
    response = coord.post(
        f"/incontri/{meeting_id}/punto-corrente",
        json={"item_id": foreign_item},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 404
    coord.post(f"/incontri/{meeting_id}/chiudi")
    # Approval must be recorded at a later meeting of the same body that has started.
    udp = client_as("udp@example.org")
    elsewhere = started_meeting(udp, body("Tavolo Politiche Abitative").id, day=future_day(30))
    for approving in (other_id, elsewhere, meeting_id, 0):
        response = coord.post(
            f"/incontri/{meeting_id}/verbale/approva", data={"approving_meeting_id": str(approving)}
        )
        assert response.status_code == 422, approving
    assert load(db, meeting_id).minutes_status == MinutesStatus.DRAFT
