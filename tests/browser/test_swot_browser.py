"""In the browser: two people fill the same SWOT at once, see each other's entries live and co-write an entry's
text; the synthesis charts render."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

PAINTED_PIXELS = """
async (id) => {
  const svg = document.getElementById(id);
  const box = svg.getBoundingClientRect();
  const xml = new XMLSerializer().serializeToString(svg);
  const img = new Image();
  img.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(xml)));
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(box.width); canvas.height = Math.round(box.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let blue = 0;
  for (let i = 0; i < data.length; i += 4) { if (data[i + 2] > 150 && data[i] < 60) blue++; }
  return {width: box.width, height: box.height, blue};
}
"""


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_two_people_fill_a_swot_at_once_and_the_udp_reads_the_synthesis(
    page_as: Any, live_server: Any, run_dir: Any
) -> None:
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    coordinator = page_as("coord.pubblico@example.org")
    coordinator.goto(f"{live_server.url}/tavoli/{tavolo_id}")
    coordinator.get_by_role("link", name="Autovalutazione SWOT").click()
    coordinator.get_by_label("Anno").select_option("2026")
    coordinator.get_by_role("button", name="Apri").click()
    coordinator.wait_for_url("**/swot/*")
    swot_url = coordinator.url

    member = page_as("membro@example.org")
    member.goto(swot_url)
    for page in (coordinator, member):
        page.wait_for_function("() => document.getElementById('live-status') !== null")
    # both pages' sockets are in the SWOT's room (the server runs in this process: ask its Socket.IO manager)
    from pdz.extensions import socketio

    room = coordinator.get_attribute("#swot", "data-room")
    manager = socketio.server.manager
    deadline = time.monotonic() + 10
    while len(manager.rooms.get("/", {}).get(room, {})) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(manager.rooms.get("/", {}).get(room, {})) == 2, "the two pages never joined the SWOT's room"

    coordinator.get_by_label("Nuova voce: Punti di forza").first.fill("Co-coordinamento che funziona")
    coordinator.locator(".swot-cell[data-dimension=mandato][data-quadrant=S] button").click()
    member.get_by_label("Nuova voce: Minacce").last.fill("Comunicazione debole verso i sindaci")
    member.get_by_label("Temi").nth(19).fill("comunicazione")
    member.locator(".swot-cell[data-dimension=governance][data-quadrant=T] button").click()

    # each sees the other's entry live, without reloading, with its text in a co-writing editor
    strength = ".swot-cell[data-dimension=mandato][data-quadrant=S] li"
    threat = ".swot-cell[data-dimension=governance][data-quadrant=T] li"
    member.locator(f"{strength} .cm-content", has_text="Co-coordinamento che funziona").wait_for()
    coordinator.locator(f"{threat} .cm-content", has_text="Comunicazione debole verso i sindaci").wait_for()

    # both write in the coordinator's entry at once: both texts end up in both pages and in the database
    member.locator(f"{strength} .cm-content").click()
    member.keyboard.press("End")
    coordinator.locator(f"{strength} .cm-content").click()
    coordinator.keyboard.press("Home")
    coordinator.keyboard.type("Davvero: ")
    member.keyboard.type(" da mantenere")
    final = "Davvero: Co-coordinamento che funziona da mantenere"
    key = "entry:" + (coordinator.locator(strength).get_attribute("data-entry") or "")
    for page in (
        coordinator,
        member,
    ):  # the shared text (the editor also shows the others' cursors and names)
        page.wait_for_function(
            "([key, text]) => window.PdzCoedit.docs[0].textOf(key) === text", arg=[key, final], polling=100
        )
        page.locator("[data-coedit-status][data-state=saved]").wait_for()
    with live_server.app.app_context():
        from pdz.evaluation.models import SwotEntry

        texts = db.session.scalars(
            select(SwotEntry.text_source).where(SwotEntry.text_source.like("Davvero%"))
        ).all()
        assert texts == [final]
    coordinator.screenshot(path=str(run_dir / "swot.png"), full_page=True)

    coordinator.get_by_role("button", name="Chiudi e consegna all'UdP Integrato").click()
    coordinator.get_by_test_id("confirm-ok").click()  # the confirmation dialog (issue #16 point 4)
    coordinator.locator("#swot-status", has_text="Chiusa").wait_for()

    udp = page_as("udp@example.org")
    udp.goto(f"{live_server.url}/valutazione/?anno=2026")
    themes = udp.locator("#themes-table").inner_text()
    assert (
        "comunicazione" in themes
        and "Comunicazione debole verso i sindaci" in udp.locator("main").inner_text()
    )
    for chart in ("chart-achievement", "chart-resources"):
        painted = udp.evaluate(PAINTED_PIXELS, chart)
        assert painted["width"] > 300 and painted["height"] > 100 and painted["blue"] > 2000, painted
        rows = udp.locator(f"#{chart} ~ table tbody tr").count()
        assert (
            rows
            == udp.locator(f"#{chart} rect.bar").count()
            + udp.locator(f"#{chart} ~ table td", has_text="dato mancante").count()
        )
    udp.screenshot(path=str(run_dir / "synthesis.png"), full_page=True)
