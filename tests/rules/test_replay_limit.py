"""Catch-up past its limit: `events.since` answers at most 500 events (`realtime.REPLAY_LIMIT`), oldest first;
a page that missed more asks again from the last one it received and gets the rest, none skipped, and only
of the rooms the asker may join."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

LIMIT = 500


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_replay_past_its_limit_comes_in_pages_without_a_gap(live_server: Any, socket_client: Any) -> None:
    from pdz.extensions import db
    from pdz.realtime import last_event_id, publish_after_commit
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        povertà, disabilità = (
            db.session.scalar(select(Body).where(Body.name == name))
            for name in ("Tavolo Povertà", "Tavolo Permanente Disabilità")
        )
        room, elsewhere = f"tavolo:{povertà.id}", f"tavolo:{disabilità.id}"
        start = last_event_id(room)
        for n in range(LIMIT + 20):
            publish_after_commit(room, "test.tick", {"n": n})
            if n % 100 == 0:
                publish_after_commit(elsewhere, "test.tick", {"n": -1})  # a room the member may not join
        db.session.commit()
        publish_after_commit(elsewhere, "test.tick", {"n": -1})  # the latest event of all, in another room
        db.session.commit()
        db.session.remove()

    page = socket_client("membro@example.org")
    rooms = [room, elsewhere]
    first = page.call("events.since", {"rooms": rooms, "after": start}, timeout=10)
    assert first["ok"] and first["rooms"] == [room]
    assert len(first["events"]) == LIMIT
    assert [e["n"] for e in first["events"]] == list(range(LIMIT))
    ids = [e["id"] for e in first["events"]]
    assert ids == sorted(ids) and ids[0] > start
    rest = page.call("events.since", {"rooms": rooms, "after": ids[-1]}, timeout=10)
    assert [e["n"] for e in rest["events"]] == list(range(LIMIT, LIMIT + 20))
    assert all(e["room"] == room for e in first["events"] + rest["events"])
    # joining tells the page where its room's history stands: the room's last event, not anyone else's
    assert page.call("room.join", {"room": room}, timeout=10)["last_event_id"] == rest["events"][-1]["id"]


def test_joining_a_room_without_events_starts_from_zero(live_server: Any, socket_client: Any) -> None:
    from pdz.extensions import db
    from pdz.realtime import publish_after_commit
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        abitative = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Politiche Abitative"))
        quiet = f"tavolo:{abitative}"
        positions = db.session.execute(text("SELECT count(*) FROM live_events WHERE room = :r"), {"r": quiet})
        assert positions.scalar() == 0
        publish_after_commit("tavolo:0", "test.tick", {"n": 0})  # some event elsewhere
        db.session.commit()
        db.session.remove()
    answer = socket_client("membro@example.org").call("room.join", {"room": quiet}, timeout=10)
    assert answer == {"ok": True, "room": quiet, "last_event_id": 0}
