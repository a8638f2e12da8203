"""Issue #16 point 5: on a phone (390 px wide) no page scrolls sideways. Every page each demo role can open (the
routes of the URL map with real ids, plus the links those pages show, as the CSP crawl finds them) is loaded at
390 px, and the document is no wider than the viewport. The header menu collapses behind a button there."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from test_csp_browser import PER_PATTERN, _shape, reachable_pages

from test_permissions_walk import ROLES

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# How far the page reaches to the right, and the widest element that sticks out (to name it in the failure).
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


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Layout does not depend on the database: one backend is enough here."""
    return request.param


@pytest.mark.parametrize("email", ROLES)
def test_no_page_scrolls_sideways_on_a_phone(
    app: Any, db: Any, body: Any, live_server: Any, page_as: Any, run_dir: Path, email: str | None
) -> None:
    pages = reachable_pages(db, body, live_server, email)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "phone"
    out.mkdir(parents=True, exist_ok=True)

    page = page_as(email)
    page.set_viewport_size(PHONE)
    base = live_server.url
    wide: dict[str, Any] = {}
    seen_shapes: dict[str, int] = {}
    for url in pages:
        seen_shapes[_shape(url)] = seen_shapes.get(_shape(url), 0) + 1
    queue, visited = list(pages), set()
    while queue:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        response = page.goto(base + url, wait_until="load")
        assert response is not None
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        measured = page.evaluate(OVERFLOW)
        if measured["width"] > measured["view"]:
            wide[url] = measured
            page.screenshot(path=str(out / (re.sub(r"\W+", "_", url).strip("_") + ".png")), full_page=True)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlsplit(urljoin(base + url, href))
            if target.netloc != urlsplit(base).netloc or target.query:
                continue
            path = target.path
            if (
                path in visited
                or path.startswith("/static/")
                or re.search(r"\.(csv|ics|pdf|docx|json)$|/documento\.", path)
                or seen_shapes.get(_shape(path), 0) >= PER_PATTERN
            ):
                continue
            seen_shapes[_shape(path)] = seen_shapes.get(_shape(path), 0) + 1
            queue.append(path)
    assert not wide, "\n".join(f"{url}: {m}" for url, m in wide.items())
    assert len(visited) >= len(pages)


def test_the_header_menu_collapses_on_a_phone(live_server: Any, page_as: Any, run_dir: Path) -> None:
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "phone"
    out.mkdir(parents=True, exist_ok=True)
    page = page_as("udp@example.org")
    menu = page.get_by_role("navigation", name="Menu principale")
    toggle = page.get_by_role("button", name="Menu")
    # Wide screen: the menu is there, the button is not.
    assert menu.is_visible() and not toggle.is_visible()
    page.set_viewport_size(PHONE)
    toggle.wait_for(state="visible")
    assert not menu.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    page.screenshot(path=str(out / "home-menu-closed.png"))
    toggle.click()
    menu.wait_for(state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert menu.get_by_role("link", name="Tavoli").is_visible()
    page.screenshot(path=str(out / "home-menu-open.png"))
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")
    assert toggle.get_attribute("aria-expanded") == "false"
    # The public table of approved documents: its downloads are reachable without scrolling sideways.
    page.goto(live_server.url + "/pubblico/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(out / "public-list.png"), full_page=True)
