"""One-line meeting fields refuse control characters, and JSON sent to meeting forms must hold texts
(issue #13 point 1): a clear Italian 422, nothing created or changed."""

from __future__ import annotations

from typing import Any

import pytest
from meetings_support import create_meeting, future_day, load, text
from sqlalchemy import func, select

INJECTED = [
    "Titolo\r\nBcc: tutti@example.org",
    "Titolo\nseconda riga",
    "Titolo\x00",
    "Titolo\x1b[31m",
    "A\u2028B",
]


def meetings(db: Any) -> int:
    from pdz.meetings.models import Meeting

    db.session.expire_all()
    return db.session.scalar(select(func.count(Meeting.id))) or 0


@pytest.mark.parametrize("value", INJECTED, ids=repr)
@pytest.mark.parametrize("field", ["title", "place"])
def test_new_meeting_with_control_characters_is_refused(
    client_as: Any, db: Any, tavolo: Any, field: str, value: str
) -> None:
    before = meetings(db)
    data = {"title": "Incontro", "day": future_day(), "start": "17:00", "end": "19:00", "place": "Crema"}
    response = client_as("coord.pubblico@example.org").post(
        f"/tavoli/{tavolo.id}/incontri/nuovo", data={**data, field: value}
    )
    assert response.status_code in (400, 422)
    page = text(response)
    assert "una sola riga" in page or "carattere nullo" in page
    assert meetings(db) == before


def test_editing_a_meeting_or_an_item_with_a_line_break_changes_nothing(
    client_as: Any, db: Any, tavolo: Any
) -> None:
    coord = client_as("coord.pubblico@example.org")
    meeting_id = create_meeting(coord, tavolo.id, title="Incontro di giugno")
    data = {"day": future_day(), "start": "17:00", "end": "19:00", "place": "Crema"}
    response = coord.post(f"/incontri/{meeting_id}/modifica", data={**data, "title": "Giugno\r\nBcc: x"})
    assert response.status_code == 422 and "una sola riga" in text(response)
    assert load(db, meeting_id).title == "Incontro di giugno"
    response = coord.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Punto\nuno"})
    assert response.status_code == 422 and "una sola riga" in text(response)
    assert load(db, meeting_id).items == []
    response = coord.post(
        f"/incontri/{meeting_id}/ordine-del-giorno",
        data={"title": "Punto", "description": "Prima riga\r\nseconda riga"},  # a description has lines
    )
    assert response.status_code == 302


@pytest.mark.parametrize("title", [["Incontro"], {"x": "Incontro"}, None, True], ids=repr)
def test_json_values_that_are_not_texts_are_refused(client_as: Any, db: Any, tavolo: Any, title: Any) -> None:
    before = meetings(db)
    response = client_as("coord.pubblico@example.org").post(
        f"/tavoli/{tavolo.id}/incontri/nuovo",
        json={"title": title, "day": future_day(), "start": "17:00", "end": "19:00", "place": "Crema"},
    )
    assert response.status_code == 422
    assert "Richiesta non valida" in text(response)
    assert meetings(db) == before
