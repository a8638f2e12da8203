"""Accessibility (issue #16 proof): axe-core finds no serious or critical violation on the pages each demo role
opens (every GET page of the URL map with real ids, as the CSP crawl and the permission walk build them), at
laptop and at phone width, nor in the open confirmation dialog and the phone menu."""

from __future__ import annotations

from typing import Any

import pytest
from test_csp_browser import reachable_pages

pytestmark = pytest.mark.browser

ROLES = [None, "udp@example.org", "coord.pubblico@example.org", "membro@example.org", "sindaco@example.org"]
SERIOUS = {"serious", "critical"}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Markup does not depend on the database: one backend is enough here."""
    return request.param


def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _serious(axe: Any, page: Any) -> list[str]:
    results = axe.run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
        if v.get("impact") in SERIOUS
    ]


@pytest.mark.parametrize("email", ROLES)
def test_no_serious_accessibility_violation(
    app: Any, db: Any, body: Any, live_server: Any, page_as: Any, email: str | None
) -> None:
    pages = reachable_pages(db, body, live_server, email)
    axe = _axe()
    page = page_as(email)
    found: dict[str, list[str]] = {}
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for url in pages:
            page.goto(live_server.url + url, wait_until="load")
            problems = _serious(axe, page)
            if problems:
                found[f"{url} @{width}"] = problems
    assert not found, "\n".join(f"{url}: {p}" for url, ps in found.items() for p in ps)


def test_the_dialog_and_the_phone_menu_are_accessible(db: Any, live_server: Any, page_as: Any) -> None:
    from sqlalchemy import select

    from pdz.meetings.models import Meeting, MeetingStatus

    meeting_id = db.session.scalar(
        select(Meeting.id).where(Meeting.status == MeetingStatus.CONVENED).order_by(Meeting.id)
    )
    db.session.remove()
    axe = _axe()
    page = page_as("udp@example.org")
    page.goto(f"{live_server.url}/incontri/{meeting_id}")
    page.get_by_test_id("cancel-meeting").click()
    page.get_by_test_id("confirm-dialog").wait_for(state="visible")
    assert _serious(axe, page) == []
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Menu principale").wait_for(state="visible")
    assert _serious(axe, page) == []
