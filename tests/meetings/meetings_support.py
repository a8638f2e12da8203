"""Helpers shared by the meeting tests (plain functions: the tests directories are not packages)."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def rome_today() -> date:
    return datetime.now(ROME).date()


def future_day(days: int = 14) -> str:
    return (rome_today() + timedelta(days=days)).isoformat()


def meeting_id_from(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/incontri/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def create_meeting(
    client: Any,
    body_id: int,
    day: str | None = None,
    start: str = "17:00",
    end: str = "19:00",
    title: str = "Incontro di prova",
    place: str = "Sala Ricevimenti, Crema",
) -> int:
    response = client.post(
        f"/tavoli/{body_id}/incontri/nuovo",
        data={"title": title, "day": day or future_day(), "start": start, "end": end, "place": place},
    )
    return meeting_id_from(response)


def add_item(client: Any, meeting_id: int, title: str, **extra: str) -> Any:
    response = client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": title, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def convened_meeting(
    client: Any, body_id: int, items: tuple[str, ...] = ("Apertura", "Mappatura", "Varie"), **kw: Any
) -> int:
    meeting_id = create_meeting(client, body_id, **kw)
    for title in items:
        add_item(client, meeting_id, title)
    response = client.post(f"/incontri/{meeting_id}/convoca")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return meeting_id


def started_meeting(client: Any, body_id: int, **kw: Any) -> int:
    meeting_id = convened_meeting(client, body_id, **kw)
    response = client.post(f"/incontri/{meeting_id}/avvia")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return meeting_id


def load(db: Any, meeting_id: int) -> Any:
    from pdz.meetings.models import Meeting

    db.session.expire_all()
    return db.session.get(Meeting, meeting_id)


def text(response: Any) -> str:
    """The page as text, HTML entities decoded (apostrophes are escaped in attributes and text)."""
    return html.unescape(response.get_data(as_text=True))
