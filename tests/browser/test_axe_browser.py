"""Accessibility (issue #16 proof) where a crawl does not reach: the open confirmation dialog and the phone menu
have no serious or critical axe violation. Every page each role opens is checked by `test_pages_browser.py`."""

from __future__ import annotations

from typing import Any

import pytest
from test_pages_browser import _axe, _serious

pytestmark = pytest.mark.browser


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
