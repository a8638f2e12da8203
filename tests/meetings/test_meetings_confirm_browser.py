"""In the browser, under the strict CSP: "Annulla l'incontro" asks first, in the page's <dialog> (the old inline
handler never compiled, because of the apostrophe, and cancelled without asking); going back keeps the meeting,
confirming cancels it. The print link of the minutes opens the print dialog without an inline handler."""

from __future__ import annotations

from typing import Any

import pytest
from meetings_support import future_day

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough."""
    return request.param


def test_cancelling_a_meeting_asks_first(live_server: Any, page_as: Any) -> None:
    from sqlalchemy import select

    from pdz.extensions import db
    from pdz.meetings.models import Meeting, MeetingStatus
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        db.session.remove()
    base = live_server.url
    coord = page_as("coord.pubblico@example.org")
    errors: list[str] = []
    coord.on("pageerror", lambda error: errors.append(str(error)))
    coord.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    coord.goto(f"{base}/tavoli/{tavolo_id}/incontri/nuovo")
    coord.locator("#title").fill("Da annullare")
    coord.locator("#day").fill(future_day(9))
    coord.locator("#start").fill("17:30")
    coord.locator("#end").fill("19:00")
    coord.locator("#place").fill("Crema")
    coord.get_by_role("button", name="Salva").click()
    coord.get_by_test_id("cancel-meeting").wait_for()
    meeting_url = coord.url
    meeting_id = int(meeting_url.rsplit("/", 1)[1])

    def status() -> MeetingStatus:
        with live_server.app.app_context():
            found = db.session.get(Meeting, meeting_id).status
            db.session.remove()
            return found

    native: list[str] = []
    coord.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    dialog = coord.get_by_test_id("confirm-dialog")

    # The page's own dialog asks (never window.confirm); going back keeps the meeting.
    coord.get_by_test_id("cancel-meeting").click()
    dialog.wait_for(state="visible")
    assert dialog.get_by_role("heading").inner_text() == "Annullare l'incontro?"
    coord.get_by_test_id("confirm-cancel").click()
    dialog.wait_for(state="hidden")
    assert coord.url == meeting_url and status() == MeetingStatus.DRAFT

    coord.get_by_test_id("cancel-meeting").click()
    coord.get_by_test_id("confirm-ok").click()
    coord.get_by_text("Incontro annullato.").wait_for()
    assert status() == MeetingStatus.CANCELLED
    assert native == []
    assert errors == []


def test_print_links_call_the_print_dialog(live_server: Any, page_as: Any) -> None:
    from sqlalchemy import select

    from pdz.cards.models import Card
    from pdz.extensions import db

    with live_server.app.app_context():
        card_id = db.session.scalar(select(Card.id).order_by(Card.id).limit(1))
        db.session.remove()
    page = page_as("udp@example.org")
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    page.goto(f"{live_server.url}/schede/{card_id}/stampa")
    page.get_by_role("button", name="Stampa").click()
    assert page.evaluate("() => window.__printed") == 1
