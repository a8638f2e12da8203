"""Issue #17: the paged and aggregated pages show the same figures as before, on the demo.

* Card history: 50 versions a page; together the pages list exactly the versions the single page listed,
  each once, newest first; the jump to a date opens the page holding the last version saved before it.
* Participation: the dashboard summed from the (tavolo, month) rollups gives the same CSV tables as the
  raw aggregate queries over every attendance, revision and comment (the figures before the rollups), for
  the whole cycle, for a period cut mid-month, and for one tavolo; and a change made afterwards shows up.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

TABLES = [
    "tavoli",
    "enti",
    "tipi",
    "sub_ambiti",
    "mesi",
    "contributi_enti",
    "contributi_tavoli",
    "registro",
    "persone",
]


def _card_with_history(db: Any, tavolo: Any, extra: int) -> Any:
    """The tavolo's first demo card with `extra` more saved versions, one a day from 2025-01-01."""
    from pdz.cards.models import Card, CardRevision
    from pdz.tavoli.models import Membership

    card = db.session.scalar(select(Card).where(Card.body_id == tavolo.id).order_by(Card.id))
    author = db.session.scalar(select(Membership.user_id).where(Membership.body_id == tavolo.id).limit(1))
    start = card.revision_no
    first = datetime(2025, 1, 1, 10, tzinfo=UTC)
    for n in range(1, extra + 1):
        db.session.add(
            CardRevision(
                card_id=card.id,
                number=start + n,
                field="context",
                before=f"testo {n - 1}",
                after=f"testo {n}",
                author_id=author,
                at=first + timedelta(days=n),
                client_op_id=uuid.uuid4().hex,
            )
        )
    card.revision_no = start + extra
    db.session.commit()
    return card


def _versions(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li id="v(\d+)">', html)]


def test_history_pages_hold_every_version_once_fifty_a_page(client_as: Any, db: Any, tavolo: Any) -> None:
    from pdz.cards.models import CardRevision

    card = _card_with_history(db, tavolo, 120)
    everything = sorted(
        set(db.session.scalars(select(CardRevision.number).where(CardRevision.card_id == card.id))),
        reverse=True,
    )
    client = client_as("coord.pubblico@example.org")
    pages = []
    for page in (1, 2, 3):
        response = client.get(f"/schede/{card.id}/storia?pagina={page}")
        assert response.status_code == 200
        pages.append(_versions(response.get_data(as_text=True)))
    assert [len(p) for p in pages[:2]] == [50, 50]
    assert [n for p in pages for n in p] == everything  # all of them, once, newest first
    first = client.get(f"/schede/{card.id}/storia").get_data(as_text=True)
    assert _versions(first) == pages[0]
    assert f"/schede/{card.id}/storia?pagina=2" in first
    # Beyond the last page: the last page; nonsense: the first.
    assert _versions(client.get(f"/schede/{card.id}/storia?pagina=99").get_data(as_text=True)) == pages[2]
    assert _versions(client.get(f"/schede/{card.id}/storia?pagina=abc").get_data(as_text=True)) == pages[0]


def test_history_jump_to_a_date_opens_the_page_of_the_last_version_before_it(
    client_as: Any, db: Any, tavolo: Any
) -> None:
    from pdz.cards.models import CardRevision

    card = _card_with_history(db, tavolo, 120)
    day = datetime(2025, 2, 15, tzinfo=UTC)  # version start+45 was saved on 2025-02-15 10:00 UTC
    last_before = db.session.scalar(
        select(func.max(CardRevision.number)).where(
            CardRevision.card_id == card.id, CardRevision.at < day + timedelta(days=1)
        )
    )
    client = client_as("coord.pubblico@example.org")
    html = client.get(f"/schede/{card.id}/storia?data=2025-02-15").get_data(as_text=True)
    shown = _versions(html)
    assert last_before in shown and len(shown) == 50
    bad = client.get(f"/schede/{card.id}/storia?data=15/02/2025")
    assert bad.status_code == 422 and "AAAA-MM-GG" in bad.get_data(as_text=True)


def _csv(client: Any, base: str, query: str) -> dict[str, str]:
    out = {}
    for name in TABLES:
        response = client.get(f"{base}/{name}.csv?{query}")
        if response.status_code == 404:  # a tavolo has no registry
            continue
        assert response.status_code == 200, name
        out[name] = response.get_data(as_text=True)
    return out


def _raw_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the dashboard read every figure straight from the raw rows, as before the rollups."""
    from pdz.participation import queries

    monkeypatch.setattr(
        queries,
        "buckets",
        lambda period, body_id=None, people=True: queries.raw_buckets(
            period, None if body_id is None else [body_id]
        ),
    )


@pytest.mark.parametrize("query", ["", "dal=2025-03-17&al=2026-10-09"])
def test_participation_rollups_give_the_figures_of_the_raw_rows(
    client_as: Any, tavolo: Any, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    udp = client_as("udp@example.org")
    rolled = _csv(udp, "/partecipazione", query)
    rolled_tavolo = _csv(udp, f"/tavoli/{tavolo.id}/partecipazione", query)
    assert rolled["tavoli"].count("\n") > 5 and rolled["contributi_enti"].count("\n") > 1
    _raw_figures(monkeypatch)
    assert _csv(udp, "/partecipazione", query) == rolled
    assert _csv(udp, f"/tavoli/{tavolo.id}/partecipazione", query) == rolled_tavolo


def test_participation_shows_a_change_made_after_the_rollups_were_computed(
    client_as: Any, db: Any, tavolo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdz.meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus

    udp = client_as("udp@example.org")
    _csv(udp, "/partecipazione", "")  # rollups computed
    attendance = db.session.scalar(
        select(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Meeting.body_id == tavolo.id,
            Meeting.status == MeetingStatus.CONCLUDED,
            Meeting.starts_at >= datetime(2025, 1, 1, tzinfo=UTC),
            Attendance.status == AttendanceStatus.ABSENT,
            Attendance.stands_for_id.is_(None),
        )
        .limit(1)
    )
    assert attendance is not None
    attendance.status = AttendanceStatus.PRESENT
    db.session.commit()
    after = _csv(udp, "/partecipazione", "")
    _raw_figures(monkeypatch)
    assert _csv(udp, "/partecipazione", "") == after


def _people_rows(html: str) -> list[str]:
    table = html.split('id="table-persone"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">([^<]*)</th><td class="num">(\d+)</td>', table)


@pytest.mark.parametrize("query", ["", "dal=2025-03-17&al=2026-10-09"])
def test_participation_people_table_is_paged_and_together_matches_the_csv(client_as: Any, query: str) -> None:
    """The page's people are aggregated, ordered and cut in the database; the CSV sums every bucket in
    Python: the same people, figures and order, for the whole cycle and for a period cut mid-month (whose
    edge months are read from the raw attendance rows)."""
    import csv
    import html as html_lib
    import io

    udp = client_as("udp@example.org")
    everyone = list(
        csv.reader(io.StringIO(udp.get(f"/partecipazione/persone.csv?{query}").get_data(as_text=True)))
    )[1:]
    assert len(everyone) > 100  # the demo has more people than a page
    shown: list[tuple[str, str]] = []
    page = 1
    while True:
        text = udp.get(f"/partecipazione/?{query}&persone_pagina={page}").get_data(as_text=True)
        rows = _people_rows(text)
        assert len(rows) <= 100
        shown += [(html_lib.unescape(name), n) for name, n in rows]
        if 'rel="next"' not in text.split('id="table-persone"', 1)[1]:
            break
        page += 1
    assert page == -(-len(everyone) // 100)
    assert shown == [(row[1], row[2]) for row in everyone]
    # Past the last page, the last page; a page that is not a number, the first.
    last = udp.get(f"/partecipazione/?{query}&persone_pagina=999").get_data(as_text=True)
    assert [(html_lib.unescape(n), a) for n, a in _people_rows(last)] == shown[(page - 1) * 100 :]
    first = udp.get(f"/partecipazione/?{query}&persone_pagina=uno").get_data(as_text=True)
    assert [(html_lib.unescape(n), a) for n, a in _people_rows(first)] == shown[:100]
