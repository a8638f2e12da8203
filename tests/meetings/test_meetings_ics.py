"""Calendars: convocation .ics and the private feed parsed back with icalendar (UID, SEQUENCE, TZID Europe/Rome),
correct hours on both sides of the summer-time changes, updates and cancellations with a higher SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from meetings_support import ROME, add_item, convened_meeting, create_meeting, load
from sqlalchemy import select

from conftest import outbox


def _event(ics_text: str | bytes) -> object:
    events = Calendar.from_ical(ics_text).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def _feed_events(client, token: str) -> dict[str, object]:
    response = client.get(f"/calendario/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return {str(e["UID"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}


def _token(db, user) -> str:
    from pdz.meetings.models import CalendarFeed

    db.session.expire_all()
    return db.session.scalar(select(CalendarFeed.token).where(CalendarFeed.user_id == user.id))


def test_times_are_right_across_the_summer_time_changes(app, db, client_as, tavolo):
    coord = client_as("coord.pubblico@example.org")
    cases = [  # (day, local start, expected UTC hour): the last Sundays of March and October 2027 and the days before
        ("2027-03-27", "10:00", 9),  # CET, UTC+1
        ("2027-03-28", "10:00", 8),  # CEST from 02:00 that night, UTC+2
        ("2027-10-30", "10:00", 8),  # CEST
        ("2027-10-31", "10:00", 9),  # back to CET from 03:00 that night
    ]
    for day, start, utc_hour in cases:
        meeting_id = convened_meeting(coord, tavolo.id, day=day, start=start, end="12:00")
        meeting = load(db, meeting_id)
        assert meeting.starts_at.hour == utc_hour, day
        assert meeting.ends_at - meeting.starts_at == timedelta(hours=2)
        ics = outbox(db, "membro@example.org")[-1].attachments[0]["content"]
        assert "DTSTART;TZID=Europe/Rome:" + day.replace("-", "") + "T100000" in ics
        event = _event(ics)
        start_value = event.decoded("DTSTART")
        assert str(start_value.tzinfo) == "Europe/Rome" and start_value.hour == 10
        assert start_value.astimezone(UTC) == meeting.starts_at
        assert "10:00" in coord.get(f"/incontri/{meeting_id}").get_data(as_text=True)
    assert "BEGIN:VTIMEZONE" in ics and "TZID:Europe/Rome" in ics

    # A wall-clock time that does not exist (the hour skipped in spring) is refused, nothing created.
    from pdz.meetings.models import Meeting

    before = db.session.query(Meeting).count()
    response = coord.post(
        f"/tavoli/{tavolo.id}/incontri/nuovo",
        data={"title": "Notturno", "day": "2027-03-28", "start": "02:30", "end": "04:00", "place": "Crema"},
    )
    assert response.status_code == 422 and "ora legale" in response.get_data(as_text=True)
    assert db.session.query(Meeting).count() == before


def test_convocation_changes_and_cancellation_reach_calendars(app, db, client_as, tavolo, user):
    coord = client_as("coord.pubblico@example.org")
    member = client_as("membro@example.org")
    outsider = client_as("disabilita@example.org")
    draft_id = create_meeting(coord, tavolo.id, day="2027-02-10", title="Solo bozza")
    meeting_id = convened_meeting(
        coord, tavolo.id, day="2027-02-17", start="17:00", end="19:00", title="Febbraio"
    )
    meeting = load(db, meeting_id)
    uid = meeting.uid

    # The private feed: activated from "I miei incontri", readable without signing in.
    assert member.post("/incontri/calendario/nuovo-indirizzo").status_code == 302
    token = _token(db, user("membro@example.org"))
    assert len(token) >= 40
    assert token in member.get("/incontri/").get_data(as_text=True)
    anonymous = app.test_client()
    events = _feed_events(anonymous, token)
    assert uid in events and int(events[uid]["SEQUENCE"]) == 0 and str(events[uid]["STATUS"]) == "CONFIRMED"
    assert load(db, draft_id).uid not in events, "drafts stay out of calendars"
    assert events[uid].decoded("DTSTART") == datetime(2027, 2, 17, 17, 0, tzinfo=ROME)
    outsider.post("/incontri/calendario/nuovo-indirizzo")
    assert uid not in _feed_events(anonymous, _token(db, user("disabilita@example.org")))

    # Moving the meeting: same UID, SEQUENCE 1, new time, an e-mail with the updated invitation.
    response = coord.post(
        f"/incontri/{meeting_id}/modifica",
        data={
            "title": "Febbraio",
            "day": "2027-02-18",
            "start": "18:00",
            "end": "20:00",
            "place": "Sala Ricevimenti, Crema",
        },
    )
    assert response.status_code == 302
    mail = outbox(db, "membro@example.org")[-1]
    assert mail.subject.startswith("Incontro modificato")
    event = _event(mail.attachments[0]["content"])
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == datetime(2027, 2, 18, 18, 0, tzinfo=ROME)
    events = _feed_events(anonymous, token)
    assert int(events[uid]["SEQUENCE"]) == 1 and events[uid].decoded("DTSTART").hour == 18

    # Adding an agenda item does not resend anything; a single-event download is available to members.
    add_item(coord, meeting_id, "Punto aggiunto")
    single = member.get(f"/incontri/{meeting_id}/evento.ics")
    assert single.status_code == 200 and str(_event(single.data)["UID"]) == uid
    assert outsider.get(f"/incontri/{meeting_id}/evento.ics").status_code == 403

    # Cancelling: STATUS:CANCELLED, SEQUENCE 2, METHOD:CANCEL in the e-mail.
    assert coord.post(f"/incontri/{meeting_id}/annulla").status_code == 302
    mail = outbox(db, "membro@example.org")[-1]
    assert mail.subject.startswith("Incontro annullato")
    assert mail.attachments[0]["content_type"] == "text/calendar; method=CANCEL"
    assert str(Calendar.from_ical(mail.attachments[0]["content"])["METHOD"]) == "CANCEL"
    events = _feed_events(anonymous, token)
    assert str(events[uid]["STATUS"]) == "CANCELLED" and int(events[uid]["SEQUENCE"]) == 2

    # A new address revokes the old one; deactivating removes it.
    assert member.post("/incontri/calendario/nuovo-indirizzo").status_code == 302
    new_token = _token(db, user("membro@example.org"))
    assert new_token != token
    assert anonymous.get(f"/calendario/{token}.ics").status_code == 404
    assert anonymous.get(f"/calendario/{new_token}.ics").status_code == 200
    assert member.post("/incontri/calendario/revoca").status_code == 302
    assert anonymous.get(f"/calendario/{new_token}.ics").status_code == 404
    assert _token(db, user("membro@example.org")) is None
