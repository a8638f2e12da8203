"""Issue #16 point 6, in the browser: attendance takes one click per person, plus "Segna tutti presenti"; the
cards an agenda item concerns are ticked in a list that a filter narrows (no Ctrl-click)."""

from __future__ import annotations

import os
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough."""
    return request.param


def _meetings(app: Any, db: Any) -> dict[str, int]:
    from pdz.accounts.models import User
    from pdz.meetings import agenda as meeting_agenda
    from pdz.meetings import lifecycle as meeting_lifecycle
    from pdz.tavoli.models import Body

    with app.test_request_context(base_url=app.config["PDZ_BASE_URL"]):
        coord = db.session.scalar(select(User).where(User.email == "coord.pubblico@example.org"))
        povertà = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
        ids = {}
        for name in ("draft", "running"):
            meeting = meeting_lifecycle.schedule_meeting(
                povertà,
                title=f"Prova {name}",
                day=date.today() + timedelta(days=5),
                start=time(17, 0),
                end=time(19, 0),
                place="Crema",
                actor=coord,
            )
            db.session.flush()
            meeting_agenda.add_agenda_item(meeting, title="Primo punto", actor=coord)
            if name == "running":
                meeting_lifecycle.publish_meeting(meeting, actor=coord)
                meeting_lifecycle.start_meeting(meeting, actor=coord)
            db.session.commit()
            ids[name] = meeting.id
        db.session.remove()
    return ids


def _statuses(app: Any, meeting_id: int) -> dict[int, str]:
    from pdz.extensions import db
    from pdz.meetings.models import Attendance

    with app.app_context():
        rows = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id)).all()
        found = {row.user_id: row.status.value for row in rows}
        db.session.remove()
    return found


def test_attendance_in_one_click_and_all_present(
    app: Any, db: Any, live_server: Any, page_as: Any, run_dir: Path
) -> None:
    ids = _meetings(app, db)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "practice"
    out.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    coord = page_as("coord.pubblico@example.org")
    errors: list[str] = []
    coord.on("pageerror", lambda error: errors.append(str(error)))

    before = _statuses(live_server.app, ids["running"])
    absent = sorted(user for user, status in before.items() if status == "assente")
    assert len(absent) >= 3, before
    coord.goto(f"{base}/incontri/{ids['running']}/regia")
    for width in (1280, 390):
        coord.set_viewport_size({"width": width, "height": 900})
        coord.locator("#presenze").screenshot(path=str(out / f"attendance-{width}.png"))
    coord.set_viewport_size({"width": 1280, "height": 900})

    # One click: the person is present, and the button says so.
    first = absent[0]
    coord.get_by_test_id(f"mark-presente-{first}").click()
    coord.wait_for_url(f"{base}/incontri/{ids['running']}/regia#presenze")
    assert coord.get_by_test_id(f"mark-presente-{first}").get_attribute("aria-pressed") == "true"
    assert _statuses(live_server.app, ids["running"])[first] == "presente"

    # Everyone else still absent, at once; the excused stay excused.
    coord.get_by_test_id("mark-all").click()
    coord.locator(f"[data-testid=mark-presente-{absent[-1]}][aria-pressed=true]").wait_for()
    after = _statuses(live_server.app, ids["running"])
    assert all(after[user] == "presente" for user in absent), after
    assert all(after[user] == "giustificato" for user, s in before.items() if s == "giustificato")
    assert errors == []


def test_cards_are_ticked_in_a_filtered_list(
    app: Any, db: Any, live_server: Any, page_as: Any, run_dir: Path
) -> None:
    from pdz.extensions import db as database
    from pdz.meetings.models import AgendaItem

    ids = _meetings(app, db)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "practice"
    out.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    coord = page_as("coord.pubblico@example.org")
    coord.goto(f"{base}/incontri/{ids['draft']}")
    picker = coord.locator("fieldset.card-picker")
    options = picker.locator("[data-filter-item]")
    total = options.count()
    assert total >= 2 and coord.locator("select[multiple]").count() == 0
    first_label = options.first.inner_text().strip()
    word = max(first_label.split(), key=len)
    coord.get_by_role("searchbox", name="Filtra le schede").fill(word)
    coord.wait_for_function(
        "n => document.querySelectorAll('.card-picker [data-filter-item]:not([hidden])').length < n",
        arg=total,
    )
    visible = picker.locator("[data-filter-item]:not([hidden])")
    assert visible.count() >= 1 and all(word.lower() in t.lower() for t in visible.all_inner_texts())
    for width in (1280, 390):
        coord.set_viewport_size({"width": width, "height": 900})
        picker.screenshot(path=str(out / f"card-picker-{width}.png"))
    coord.set_viewport_size({"width": 1280, "height": 900})
    visible.first.locator("input").check()
    coord.get_by_role("searchbox", name="Filtra le schede").fill("zzzz nessuna")
    picker.get_by_text("Nessuna scheda corrisponde al filtro.").wait_for()
    coord.locator("#title").fill("Punto con una scheda")
    coord.get_by_test_id("add-item").click()
    coord.get_by_text("Punto aggiunto all'ordine del giorno.").wait_for()
    with live_server.app.app_context():
        item = database.session.scalar(select(AgendaItem).where(AgendaItem.title == "Punto con una scheda"))
        from pdz.meetings.agenda import load_item_cards

        assert item is not None and len(load_item_cards(item)) == 1
        database.session.remove()
