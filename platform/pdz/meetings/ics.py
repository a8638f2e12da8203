"""iCalendar (RFC 5545) for meetings: one stable UID per meeting, SEQUENCE bumped by every published change.

Times are written with TZID=Europe/Rome (plus its VTIMEZONE), so calendars show the right local hour on
both sides of the summer-time change. Text from people (titles, places, names) goes through `_line`/`_text`:
line breaks are escaped by icalendar (never a raw CR or LF, which would start a new property), other control
characters dropped, and long lines folded at 75 octets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC
from email.utils import parseaddr

from flask import current_app, url_for
from icalendar import Calendar, Event, vCalAddress, vText

from ..db import utcnow
from ..formatting import local
from .models import Meeting, MeetingStatus

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BREAKS = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")


def _text(value: str) -> vText:
    """Multi-line text: every kind of line break becomes one LF (escaped as \\n by vText), controls dropped."""
    return vText(_CONTROL.sub("", _BREAKS.sub("\n", value)))


def _line(value: str) -> vText:
    """One-line text (a title, a place, a name): line breaks become spaces."""
    return vText(" ".join(_CONTROL.sub("", _BREAKS.sub(" ", value)).split()))


def meeting_url(meeting: Meeting) -> str:
    return current_app.config["PDZ_BASE_URL"].rstrip("/") + url_for("meetings.detail", meeting_id=meeting.id)


def event_for(meeting: Meeting) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", utcnow().astimezone(UTC))
    event.add("last-modified", (meeting.updated_at or utcnow()).astimezone(UTC))
    event.add("dtstart", local(meeting.starts_at))
    event.add("dtend", local(meeting.ends_at))
    event.add("summary", _line(f"{meeting.body.display_name}: {meeting.title}"))
    address = parseaddr(current_app.config.get("PDZ_MAIL_FROM") or "")[1] or "noreply@localhost"
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = _line(meeting.body.name)
    event.add("organizer", organizer)
    location = meeting.place or meeting.video_url
    if location:
        event.add("location", _line(location))
    lines = [f"{item.position}. {_line(item.title)}" for item in meeting.items]
    event.add("description", _text("\n".join(["Ordine del giorno:", *lines, "", meeting_url(meeting)])))
    event.add("url", meeting_url(meeting))
    cancelled = meeting.status == MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar(
    meetings: Iterable[Meeting], method: str | None = None, name: str = "PdZ Ambito Cremasco"
) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//PdZ Ambito Cremasco//Incontri//IT")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _line(name))
    if method:
        cal.add("method", method)
    for meeting in meetings:
        cal.add_component(event_for(meeting))
    cal.add_missing_timezones()
    return cal.to_ical()


def attachment(meeting: Meeting) -> dict[str, str]:
    """The .ics attached to a convocation, change or cancellation e-mail."""
    method = "CANCEL" if meeting.status == MeetingStatus.CANCELLED else "REQUEST"
    return {
        "filename": f"incontro-{meeting.id}.ics",
        "content_type": f"text/calendar; method={method}",
        "content": calendar([meeting], method=method).decode("utf-8"),
    }
