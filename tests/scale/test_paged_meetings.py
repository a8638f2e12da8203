"""Issue #17: a tavolo's past meetings are paged (meetings.queries.PAST_PAGE a page, newest first); together
the pages list every past meeting once, and each shows the attendance it showed on the single page
(present or represented / people on the sheet, delegates not counted twice). The home's "Da fare" loads only
the minutes drafts it shows, and still counts them all."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import select


def _pages(client: Any, url: str) -> list[str]:
    pages, page = [], 1
    while True:
        answer = client.get(f"{url}?pagina={page}")
        assert answer.status_code == 200
        pages.append(answer.get_data(as_text=True))
        if 'rel="next"' not in pages[-1]:
            return pages
        page += 1
        assert page < 200


def test_past_meetings_pages_hold_every_meeting_once_with_its_attendance(
    client_as: Any, db: Any, tavolo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdz.db import utcnow
    from pdz.meetings import queries
    from pdz.meetings.models import Attendance, Meeting

    monkeypatch.setattr(queries, "PAST_PAGE", 3)
    now = utcnow()
    meetings = db.session.scalars(select(Meeting).where(Meeting.body_id == tavolo.id)).all()

    def ended(m: Any) -> bool:
        ends = m.ends_at if m.ends_at.tzinfo else m.ends_at.replace(tzinfo=UTC)
        return ends < now or m.status == "conclusa"

    past = sorted((m for m in meetings if ended(m)), key=lambda m: (m.starts_at, m.id), reverse=True)
    assert len(past) > 3
    expected = []
    for m in past:
        figure = "—"
        if m.status == "conclusa":
            sheet = [
                a
                for a in db.session.scalars(select(Attendance).where(Attendance.meeting_id == m.id))
                if a.stands_for_id is None
            ]
            if sheet:
                attended = sum(1 for a in sheet if a.status in ("presente", "rappresentato"))
                figure = f"{attended} / {len(sheet)}"
        expected.append((m.id, figure))

    client = client_as("coord.pubblico@example.org")
    pages = _pages(client, f"/tavoli/{tavolo.id}/incontri")
    assert len(pages) == -(-len(past) // 3)
    listed = [
        (int(meeting_id), figure.strip())
        for page in pages
        for meeting_id, figure in re.findall(
            r'<tr data-testid="past-meeting">.*?href="/incontri/(\d+)".*?</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>',
            page,
            re.S,
        )
    ]
    assert listed == expected
    assert f"({len(past)} incontri)" in pages[0]
    assert client.get(f"/tavoli/{tavolo.id}/incontri?pagina=abc").status_code == 200


def test_home_counts_every_minutes_draft_but_loads_three(client_as: Any, db: Any, tavolo: Any) -> None:
    from pdz.meetings.models import Meeting

    for meeting in db.session.scalars(
        select(Meeting).where(Meeting.body_id == tavolo.id, Meeting.status == "conclusa")
    ):
        meeting.minutes_status = "bozza"  # every concluded meeting of the tavolo waits for its minutes
    db.session.commit()
    drafts = db.session.scalars(
        select(Meeting).where(
            Meeting.body_id == tavolo.id, Meeting.status == "conclusa", Meeting.minutes_status == "bozza"
        )
    ).all()
    assert len(drafts) > 3
    client = client_as("coord.pubblico@example.org")
    home = client.get("/").get_data(as_text=True)
    section = home.split('data-testid="work-verbali"', 1)[1].split("</div>", 1)[0]
    assert re.search(r'<span class="count">(\d+)</span>', section).group(1) == str(len(drafts))  # type: ignore[union-attr]
    assert section.count('class="work-verbale') == 3
    assert f"Altri {len(drafts) - 3}" in section
    todo = client.get("/da-fare").get_data(as_text=True)
    all_section = todo.split('data-testid="work-verbali"', 1)[1].split("</div>", 1)[0]
    assert all_section.count('class="work-verbale') == len(drafts)
