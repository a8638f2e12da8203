"""The run page ("Regia") of a meeting in progress carries the minutes editor: the coordinator writes the
minutes of the item in discussion there while someone else writes on the minutes page, in one document."""

from __future__ import annotations

from typing import Any

import pytest
from test_minutes_coedit import CO_COORD, COORD, new_meeting, row

pytestmark = pytest.mark.browser

STATUS = "[data-coedit-status]"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # the page script is what is tested here; the engine runs on both elsewhere


def text_of(page: Any, key: str) -> Any:
    return page.evaluate("(k) => window.PdzCoedit.docs[0].textOf(k)", key)


def test_minutes_written_on_the_run_page_reach_the_minutes_page(live_server: Any, page_as: Any) -> None:
    from pdz.meetings.models import AgendaItem

    meeting = new_meeting(live_server, items=("Apertura", "Mappatura dei servizi"))
    first, second = meeting["items"]
    run = page_as(COORD)
    run.goto(f"{live_server.url}/incontri/{meeting['id']}/regia")
    run.wait_for_selector(f"#verbale-in-corso {STATUS}[data-state=saved]")
    # The first item is open (none in discussion yet); the second is closed.
    assert run.locator(f'.minutes-live-item[data-item-id="{first}"]').get_attribute("open") is not None
    assert run.locator(f'.minutes-live-item[data-item-id="{second}"]').get_attribute("open") is None

    writer = page_as(CO_COORD)
    writer.goto(f"{live_server.url}/incontri/{meeting['id']}/verbale")
    writer.wait_for_selector(f"{STATUS}[data-state=saved]")

    # Putting the second item in discussion opens its minutes on the run page, without a reload.
    run.get_by_test_id("make-current-2").click()
    run.wait_for_selector(f'.minutes-live-item[data-item-id="{second}"][open]')
    editor = run.get_by_role("textbox", name="Verbale del punto 2")
    editor.click()
    run.keyboard.type("Si mappano i servizi del sub-ambito.")
    writer.wait_for_function(
        "(k) => (window.PdzCoedit.docs[0].textOf(k) || '').includes('sub-ambito')", arg=f"item:{second}"
    )
    # The co-coordinator adds to the same text from the minutes page; the run page sees it.
    other = writer.get_by_role("textbox", name="Verbale del punto 2")
    other.click()
    writer.keyboard.press("Control+End")
    writer.keyboard.type(" Approvato all'unanimità.")
    run.wait_for_function(
        "(k) => (window.PdzCoedit.docs[0].textOf(k) || '').endsWith('unanimità.')", arg=f"item:{second}"
    )
    for page in (run, writer):
        page.wait_for_selector(f"{STATUS}[data-state=saved]")
    expected = "Si mappano i servizi del sub-ambito. Approvato all'unanimità."
    assert text_of(run, f"item:{second}") == expected
    assert row(live_server, AgendaItem, second).minutes_source == expected

    # At phone width the minutes panel fits the screen and nothing inside it pushes it wider (a remote
    # caret's name label near the edge stays inside the editor's own scrolling area).
    run.set_viewport_size({"width": 390, "height": 844})
    box = run.evaluate(
        "() => { const s = document.querySelector('#verbale-in-corso');"
        " return {right: s.getBoundingClientRect().right, scroll: s.scrollWidth, client: s.clientWidth}; }"
    )
    assert box["right"] <= 390 and box["scroll"] <= box["client"], box
    run.locator("#verbale-in-corso").screenshot(
        path=str(live_server.app.instance_path) + "/run-minutes-390.png"
    )
