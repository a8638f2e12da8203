"""iCalendar (RFC 5545) for meetings: one stable UID per meeting, SEQUENCE bumped by every published change.

Times are written with TZID=Europe/Rome (plus its VTIMEZONE), so calendars show the right local hour on
both sides of the summer-time change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from email.utils import parseaddr

from flask import current_app, url_for
from icalendar import Calendar, Event, vCalAddress, vText

from ..db import utcnow
from ..formatting import ROME
from .models import Meeting, MeetingStatus


def meeting_url(meeting: Meeting) -> str:
    return current_app.config["PDZ_BASE_URL"].rstrip("/") + url_for("meetings.detail", meeting_id=meeting.id)


def event_for(meeting: Meeting) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", utcnow().astimezone(UTC))
    event.add("last-modified", (meeting.updated_at or utcnow()).astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(ROME))
    event.add("dtend", meeting.ends_at.astimezone(ROME))
    event.add("summary", f"{meeting.body.display_name}: {meeting.title}")
    address = parseaddr(current_app.config.get("PDZ_MAIL_FROM") or "")[1] or "noreply@localhost"
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(meeting.body.name)
    event.add("organizer", organizer)
    location = meeting.place or meeting.video_url
    if location:
        event.add("location", location)
    lines = [f"{item.position}. {item.title}" for item in meeting.items]
    event.add("description", "\n".join(["Ordine del giorno:", *lines, "", meeting_url(meeting)]))
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
    cal.add("x-wr-calname", name)
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
