"""Issue #16 point 5 on a phone (390 px wide): the header menu collapses behind a button, and the public table of
approved documents fits. That no page each role opens scrolls sideways is checked by `test_pages_browser.py`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from test_pages_browser import PHONE

pytestmark = pytest.mark.browser


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
