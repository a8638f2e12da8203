"""In the browser: a co-coordinator schedules and convenes; a member answers and checks in with the code;
the current item moves live on the member's page; the minutes are co-written by both coordinators, approved
and frozen."""

from __future__ import annotations

import re

import pytest
from meetings_support import future_day

from conftest import http_session

pytestmark = pytest.mark.browser


def _csrf(session, url):
    return re.search(r'name="csrf-token" content="([^"]+)"', session.get(url).text).group(1)


def test_meeting_in_the_browser(live_server, page_as):
    from sqlalchemy import select

    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        db.session.remove()
    base = live_server.url
    coord = page_as("coord.pubblico@example.org")
    coord.on("dialog", lambda dialog: dialog.accept())

    # Schedule from the tavolo's meetings tab, draft the agenda, convene.
    coord.goto(f"{base}/tavoli/{tavolo_id}")
    coord.get_by_role("navigation", name="Sezioni del tavolo").get_by_role("link", name="Incontri").click()
    coord.get_by_role("link", name="Nuovo incontro").click()
    coord.locator("#title").fill("Incontro di dicembre")
    coord.locator("#day").fill(future_day(6))
    coord.locator("#start").fill("17:30")
    coord.locator("#end").fill("19:00")
    coord.locator("#place").fill("Sala Ricevimenti, Comune di Crema")
    coord.get_by_role("button", name="Salva").click()
    coord.wait_for_url(re.compile(r"/incontri/\d+$"))
    meeting_url = coord.url
    for title in ("Apertura e verbale", "Mappatura delle reti", "Varie"):
        coord.locator("#title").fill(title)
        coord.get_by_test_id("add-item").click()
        coord.get_by_text("Punto aggiunto all'ordine del giorno.").wait_for()
    coord.get_by_test_id("publish").click()
    coord.get_by_test_id("confirm-ok").click()  # the confirmation dialog (issue #16 point 4)
    coord.get_by_text("Incontro convocato").wait_for()
    assert coord.get_by_test_id("meeting-status").inner_text() == "Convocato"

    # A member answers.
    member = page_as("membro@example.org")
    member.goto(meeting_url)
    member.get_by_label("Partecipo", exact=True).check()
    member.get_by_test_id("answer").click()
    assert member.get_by_test_id("my-answer").inner_text() == "Partecipo"

    # The coordinator starts the meeting; the member checks in with the code shown in the room.
    coord.get_by_test_id("start").click()
    coord.get_by_test_id("confirm-ok").click()  # scheduled for another day: the dialog asks
    coord.wait_for_url(re.compile(r"/regia$"))
    code = coord.get_by_test_id("checkin-code").inner_text().strip()
    assert len(code) == 6
    member.goto(meeting_url)
    member.get_by_label("Codice dell'incontro").fill(code)
    member.get_by_test_id("checkin").click()
    member.get_by_test_id("checked-in").wait_for()
    assert member.get_by_test_id("current-item").inner_text() == "1. Apertura e verbale"

    # The current item moves live on the member's page, without reloading it.
    member.wait_for_selector("[data-meeting-id][data-live='1']")
    coord.get_by_test_id("make-current-2").click()
    member.wait_for_function(
        "() => document.querySelector('[data-testid=current-item]').textContent.trim()"
        " === '2. Mappatura delle reti'"
    )
    assert member.locator("li.is-current").inner_text().startswith("Mappatura delle reti")

    # Minutes co-written during the meeting: what one coordinator types appears in the other's editor and is
    # saved without a button; then the meeting is closed.
    co_coord = page_as("coord.ets@example.org")
    for page in (coord, co_coord):
        page.goto(meeting_url + "/verbale")
        page.wait_for_selector("[data-coedit-status][data-state=saved]")
    first_item = '[data-coedit-field^="item:"] .cm-content'
    key = coord.locator('[data-coedit-field^="item:"]').first.get_attribute("data-coedit-field")

    def shared_text_is(
        value: str,
    ) -> str:  # the document's text (the editor's DOM also holds others' cursors)
        return f"() => window.PdzCoedit && window.PdzCoedit.docs[0].textOf('{key}') === '{value}'"

    coord.locator(first_item).first.click()
    coord.keyboard.type("Il verbale precedente è letto e condiviso.")
    coord.wait_for_selector("[data-coedit-status][data-state=saved]")
    co_coord.wait_for_function(shared_text_is("Il verbale precedente è letto e condiviso."))
    co_coord.locator(first_item).first.click()
    co_coord.keyboard.press("End")
    co_coord.keyboard.type(" Nessuna osservazione.")
    co_coord.wait_for_selector("[data-coedit-status][data-state=saved]")
    full = "Il verbale precedente è letto e condiviso. Nessuna osservazione."
    coord.wait_for_function(shared_text_is(full))
    coord.screenshot(path="/tmp/pdz-minutes-1280.png", full_page=True)
    co_coord.set_viewport_size({"width": 390, "height": 844})
    co_coord.screenshot(path="/tmp/pdz-minutes-390.png", full_page=True)
    coord.reload()
    coord.wait_for_selector("[data-coedit-status][data-state=saved]")
    coord.wait_for_function(shared_text_is(full))
    coord.goto(meeting_url + "/regia")
    coord.get_by_test_id("conclude").click()
    coord.get_by_test_id("confirm-ok").click()
    coord.wait_for_url(re.compile(r"/verbale$"))

    # The next meeting approves the minutes (prepared over HTTP: scheduled, convened, started).
    session = http_session(live_server, "coord.pubblico@example.org")
    new = f"{base}/tavoli/{tavolo_id}/incontri/nuovo"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', session.get(new).text).group(1)
    response = session.post(
        new,
        data={
            "csrf_token": token,
            "title": "Incontro di gennaio",
            "day": future_day(36),
            "start": "17:30",
            "end": "19:00",
            "place": "Crema",
        },
        allow_redirects=False,
    )
    later = base + response.headers["Location"]
    for path, data in (
        ("/ordine-del-giorno", {"title": "Approvazione del verbale"}),
        ("/convoca", {}),
        ("/avvia", {}),
    ):
        assert (
            session.post(
                later + path, data={"csrf_token": _csrf(session, later), **data}, allow_redirects=False
            ).status_code
            == 302
        )
    coord.reload()
    option = coord.locator("#approving_meeting_id option", has_text="Incontro di gennaio").get_attribute(
        "value"
    )
    coord.get_by_label("Approvato nell'incontro del").select_option(option)
    coord.get_by_test_id("approve").click()
    coord.get_by_test_id("confirm-ok").click()
    coord.get_by_test_id("frozen").wait_for()
    assert coord.locator("[data-coedit-doc]").count() == 0 and coord.locator(".cm-content").count() == 0
    assert full in coord.locator("[data-minutes-html]").first.inner_text()
    coord.goto(meeting_url + "/regia")
    assert "non si possono più modificare" in coord.content()
    assert coord.locator("form.mark-form").count() == 0
