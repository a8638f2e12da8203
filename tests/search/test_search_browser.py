"""Search and "my work" in a browser (issue #16 points 1 and 3): the header box leads to /cerca, results are
grouped and highlighted, the overdue action stands out on "Da fare"; no page scrolls sideways at 390 px and
axe finds no serious or critical violation on the filled pages.
Screenshots at 1280 and 390 px are kept as artifacts (PDZ_TEST_ARTIFACTS, else the run directory)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough (the queries are tested on both)."""
    return request.param


def _shots(page: Any, out: Path, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        serious = [
            f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}"
            for v in axe.run(page).response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == [], f"{name} at {width} px: {serious}"
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _one_overdue_action(db: Any, email: str) -> str:
    """Make exactly one of the person's open actions overdue, by 44 days, and the others due in a month (the
    demo's meetings are laid out from today backwards, so its due dates move with the calendar). Returns the
    overdue date as the page writes it."""
    from datetime import timedelta

    from sqlalchemy import select

    from pdz.accounts.models import User
    from pdz.db import utcnow
    from pdz.meetings.models import ActionItem, ActionStatus

    owner = db.session.scalar(select(User.id).where(User.email == email))
    actions = list(
        db.session.scalars(
            select(ActionItem)
            .where(ActionItem.owner_id == owner, ActionItem.status == ActionStatus.OPEN)
            .order_by(ActionItem.id)
        )
    )
    assert actions, "the demo gives the person an open action"
    today = utcnow().date()
    for n, action in enumerate(actions):
        action.due_on = today - timedelta(days=44) if n == 0 else today + timedelta(days=30)
    db.session.commit()
    written = f"{today - timedelta(days=44):%d/%m/%Y}"
    db.session.remove()  # hold no read transaction while the live server uses the SQLite file
    return written


def test_header_search_and_my_work(live_server: Any, page_as: Any, run_dir: Path, db: Any) -> None:
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "search"
    out.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    overdue_on = _one_overdue_action(db, "membro@example.org")

    membro = page_as("membro@example.org")
    membro.goto(base + "/")
    todo = membro.get_by_test_id("todo")
    overdue = todo.locator("li.overdue")
    assert overdue.count() == 1 and f"Scaduta il {overdue_on}" in overdue.inner_text()
    colour = overdue.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    _shots(membro, out, "home-membro")

    membro.get_by_label("Cerca", exact=True).fill("servizi")
    membro.get_by_label("Cerca", exact=True).press("Enter")
    membro.wait_for_url(lambda url: "/cerca?q=servizi" in url)
    assert membro.get_by_test_id("search-group-card").count() == 1
    assert membro.locator("mark").count() > 0
    _shots(membro, out, "cerca-membro")

    membro.goto(base + "/da-fare")
    assert membro.get_by_test_id("work-azioni").locator("li.overdue").count() == 1
    _shots(membro, out, "da-fare-membro")

    udp = page_as("udp@example.org")
    udp.goto(base + "/cerca?q=comune")
    assert udp.locator("[data-testid^=search-group-]").count() >= 2
    _shots(udp, out, "cerca-udp")
