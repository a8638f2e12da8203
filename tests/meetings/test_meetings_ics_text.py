"""Calendars carry people's text safely: a line break in a meeting's title, place or agenda cannot start a new
property (it is escaped), long lines are folded at 75 octets, and a person whose name holds CR/LF still gets
their private feed (it answered 500 before)."""

from __future__ import annotations

import re

from icalendar import Calendar
from meetings_support import add_item, convened_meeting, load
from sqlalchemy import select

INJECTED_TITLE = "Riunione\r\nATTENDEE;RSVP=TRUE:mailto:intruso@example.org\rX-TITLE:1"
INJECTED_PLACE = "Sala Ricevimenti\nLOCATION:Altrove\u2028X-PLACE:1"
INJECTED_ITEM = "Punto\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:finto"


def _physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line and b"\n" not in line, line  # no bare CR or LF anywhere
        assert len(line) <= 75, (len(line), line)  # folded (RFC 5545 3.1)
    return lines


def _property_names(data: bytes) -> list[str]:
    """Names of the content lines after unfolding (a continuation line starts with a space or tab)."""
    return [
        re.split(rb"[;:]", line, maxsplit=1)[0].decode()
        for line in _physical_lines(data)
        if not line.startswith((b" ", b"\t"))
    ]


def _check(data: bytes) -> None:
    names = _property_names(data)
    assert "ATTENDEE" not in names and "X-TITLE" not in names and "X-PLACE" not in names, names
    assert names.count("BEGIN") == names.count("END")
    events = Calendar.from_ical(data).walk("VEVENT")
    mine = [e for e in events if "Riunione" in str(e["SUMMARY"])]
    assert len(mine) == 1
    event = mine[0]
    assert "intruso@example.org" in str(event["SUMMARY"])  # kept as text, on one line
    assert "\n" not in str(event["SUMMARY"]) and "\r" not in str(event["SUMMARY"])
    assert str(event["LOCATION"]).startswith("Sala Ricevimenti") and "\n" not in str(event["LOCATION"])
    assert "ATTENDEE" not in event
    assert "Punto END:VEVENT BEGIN:VEVENT SUMMARY:finto" in str(event["DESCRIPTION"])
    assert not [e for e in events if str(e["SUMMARY"]) == "finto"]


def test_line_breaks_in_a_meeting_cannot_create_properties(app, db, client_as, tavolo, user):
    coord = client_as("coord.pubblico@example.org")
    member = client_as("membro@example.org")
    meeting_id = convened_meeting(coord, tavolo.id, title="Riunione")
    add_item(coord, meeting_id, "Punto")
    meeting = load(db, meeting_id)
    meeting.title = INJECTED_TITLE  # as if typed, or stored before any input check
    meeting.place = INJECTED_PLACE
    meeting.items[-1].title = INJECTED_ITEM
    db.session.commit()

    single = member.get(f"/incontri/{meeting_id}/evento.ics")
    assert single.status_code == 200 and single.mimetype == "text/calendar"
    _check(single.data)

    assert member.post("/incontri/calendario/nuovo-indirizzo").status_code == 302
    from pdz.meetings.models import CalendarFeed

    db.session.expire_all()
    token = db.session.scalar(
        select(CalendarFeed.token).where(CalendarFeed.user_id == user("membro@example.org").id)
    )
    feed = app.test_client().get(f"/calendario/{token}.ics")
    assert feed.status_code == 200
    _check(feed.data)


def test_a_name_with_line_breaks_keeps_its_calendar_feed(app, db, client_as, user):
    from pdz.meetings.models import CalendarFeed

    member = client_as("membro@example.org")
    assert member.post("/incontri/calendario/nuovo-indirizzo").status_code == 302
    person = user("membro@example.org")
    person.full_name = "Luca\r\nX-WR-CALNAME:Intruso\rBonizzi"
    db.session.commit()
    token = db.session.scalar(select(CalendarFeed.token).where(CalendarFeed.user_id == person.id))

    feed = app.test_client().get(f"/calendario/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    names = _property_names(feed.data)
    assert names.count("X-WR-CALNAME") == 1
    calendar = Calendar.from_ical(feed.data)
    assert str(calendar["X-WR-CALNAME"]) == "Incontri PdZ – Luca X-WR-CALNAME:Intruso Bonizzi"
    assert calendar.walk("VEVENT"), "membro's meetings are still there"
