"""Exactly once in a real browser (issue #13 point 2): the form carries its idempotency key by itself, so a
second click on "Salva" while the first is still on its way sends the form twice and creates one meeting;
the page ends on that meeting. (The server holds the first request until the second arrives, so that the
two are really in flight together.)"""

from __future__ import annotations

import contextlib
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.browser


def test_a_double_click_creates_one_meeting(live_server: Any, page_as: Any) -> None:
    from pdz.extensions import db
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        db.session.remove()
    together = threading.Barrier(2, timeout=5)

    def hold_creates() -> None:
        from flask import request

        if request.method == "POST" and request.path.endswith("/incontri/nuovo"):
            with contextlib.suppress(threading.BrokenBarrierError):  # one request only: let it through
                together.wait()

    live_server.app.before_request_funcs.setdefault(None, []).insert(0, hold_creates)
    coord = page_as("coord.pubblico@example.org")
    posts: list[str] = []
    coord.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    coord.goto(f"{live_server.url}/tavoli/{tavolo_id}/incontri/nuovo")
    assert coord.locator('form:has(#place) input[name="idempotency_key"]').count() == 1
    coord.locator("#title").fill("Incontro cliccato due volte")
    coord.locator("#day").fill((date.today() + timedelta(days=9)).isoformat())
    coord.locator("#start").fill("17:30")
    coord.locator("#end").fill("19:00")
    coord.locator("#place").fill("Sala Ricevimenti, Crema")
    box = coord.locator("form:has(#place) [type=submit]").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    with coord.expect_request(lambda r: r.method == "POST" and r.url.endswith("/incontri/nuovo")):
        coord.mouse.click(x, y)
    coord.mouse.click(x, y)  # again, while the first is held on the server
    try:
        coord.get_by_role("heading", name="Incontro cliccato due volte").wait_for()  # the meeting's page
    except Exception:
        raise AssertionError((coord.url, posts, coord.locator("main").inner_text()[:800])) from None
    with live_server.app.app_context():
        created = db.session.scalar(
            select(func.count(Meeting.id)).where(Meeting.title == "Incontro cliccato due volte")
        )
        db.session.remove()
    assert len([url for url in posts if url.endswith("/incontri/nuovo")]) == 2  # both clicks went out
    assert created == 1
