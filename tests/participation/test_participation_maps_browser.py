"""Issue #16 point 8 in a browser: the participation maps and the grouped alerts at 1280 and 390 px.

The page never scrolls sideways (a wide map scrolls inside its own box, with a visible hint on a phone),
axe finds no serious or critical violation, each map cell shows its rate and its pairs in a colour that
matches the legend, and the alert groups open and close. Screenshots are kept as artifacts
(PDZ_TEST_ARTIFACTS, else the run directory, folder "participation")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# The legend's colours, as the stylesheet sets them (below 40 %, 40-55, 55-70, 70-85, 85 % and more).
# How far the page reaches to the right, and the widest element that sticks out (as tests/browser's phone test).
OVERFLOW = """() => {
  const view = document.documentElement.clientWidth;
  const width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  let worst = null;
  if (width > view) {
    for (const el of document.body.querySelectorAll("*")) {
      const right = el.getBoundingClientRect().right;
      if (right > view + 1 && (!worst || right > worst.right)) {
        worst = { right: Math.round(right), tag: el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "") + (el.id ? "#" + el.id : "") };
      }
    }
  }
  return { view, width, worst };
}"""
LEVELS = [
    "rgb(239, 243, 255)",
    "rgb(198, 219, 239)",
    "rgb(107, 174, 214)",
    "rgb(33, 113, 181)",
    "rgb(8, 48, 107)",
]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Layout does not depend on the database; the figures are tested on both over HTTP."""
    return request.param


def _level(pct: float) -> int:
    return sum(pct >= edge for edge in (40, 55, 70, 85))


def _check(page: Any, width: int) -> None:
    from axe_playwright_python.sync_playwright import Axe

    measured = page.evaluate(OVERFLOW)
    assert measured["width"] <= measured["view"], f"the dashboard scrolls sideways at {width} px: {measured}"
    serious = [
        f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}"
        for v in Axe().run(page).response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert serious == [], f"at {width} px: {serious}"


def test_maps_and_grouped_alerts_at_desk_and_phone_widths(
    page_as: Any, live_server: Any, run_dir: Path
) -> None:
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "participation"
    out.mkdir(parents=True, exist_ok=True)
    udp = page_as("udp@example.org")
    udp.goto(live_server.url + "/partecipazione/")

    cells = udp.locator("#table-matrice_sub_ambiti td[data-pct]")
    assert cells.count() > 40
    for index in range(cells.count()):
        cell = cells.nth(index)
        pct = float(cell.get_attribute("data-pct"))
        text = " ".join(cell.inner_text().split())
        assert text.startswith(f"{pct}%"), text
        assert cell.evaluate("el => getComputedStyle(el).backgroundColor") == LEVELS[_level(pct)]
    assert udp.locator(".matrix-legend li").count() == 6

    # Desk: the hint is not needed and hidden; the alert groups are closed and open on a click.
    udp.set_viewport_size({"width": 1280, "height": 900})
    assert not udp.locator("#matrice_tipi-hint").is_visible()
    groups = udp.locator("details.alert-group")
    assert groups.count() >= 2
    first = groups.first
    assert first.locator(".alert-tavolo").first.is_visible() is False
    first.locator("summary").click()
    assert first.locator(".alert-tavolo").first.is_visible()
    _check(udp, 1280)
    udp.screenshot(path=str(out / "dashboard-1280.png"), full_page=True)
    for name in ("matrice_sub_ambiti", "matrice_tipi"):
        udp.locator(f"section:has(#table-{name})").screenshot(path=str(out / f"{name}-1280.png"))
    udp.locator("section:has(#alerts-h)").screenshot(path=str(out / "alerts-1280.png"))

    # Phone: the page fits, the kinds' map scrolls inside its box and says so.
    udp.set_viewport_size({"width": 390, "height": 844})
    box = udp.locator(".matrix-scroll:has(#table-matrice_tipi)")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    assert udp.locator("#matrice_tipi-hint").is_visible()
    _check(udp, 390)
    udp.screenshot(path=str(out / "dashboard-390.png"), full_page=True)
    box.scroll_into_view_if_needed()
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    box.screenshot(path=str(out / "matrice_tipi-390-scrolled.png"))
    udp.locator("section:has(#table-matrice_sub_ambiti)").screenshot(
        path=str(out / "matrice_sub_ambiti-390.png")
    )
    sticky = udp.locator("#table-matrice_tipi tbody th").first
    assert sticky.bounding_box()["x"] >= box.bounding_box()["x"] - 1  # the tavolo's name stays in view
