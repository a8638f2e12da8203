"""Catch-up follows the order of the commits, not of the ids (PostgreSQL, concurrent writers).

Two transactions publish in the same room; the one with the smaller id commits last. A page that saw the
first committed event and then asks for "what came after it" must still get the other one."""

from __future__ import annotations

from typing import Any

import pytest
from tests.comments.test_comments_live import quick_websocket_close, scalar  # noqa: F401 - autouse fixture
from tests.comments.test_comments_redis import wait_for


@pytest.fixture(params=["postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # SQLite serialises writers: the order cannot be forced there


def test_an_event_committed_after_a_later_id_is_not_missed(
    live_server: Any, socket_client: Any, database_url: str
):
    from pdz.extensions import db
    from pdz.realtime import publish_after_commit

    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    room = f"tavolo:{body_id}"
    page = socket_client("membro@example.org")
    joined = page.call("room.join", {"room": room}, timeout=10)
    assert joined["ok"], joined
    start = joined["last_event_id"]

    with live_server.app.app_context():
        slow, fast = db.session.session_factory(), db.session.session_factory()
        try:
            early = publish_after_commit(room, "test.order", {"n": "early id"}, session=slow)
            late = publish_after_commit(room, "test.order", {"n": "late id"}, session=fast)
            assert early.id < late.id
            fast.commit()  # the larger id commits first and reaches the page
            wait_for(lambda: [d for e, d in page.received if e == "test.order"], "first event live")
            seen = [d for e, d in page.received if e == "test.order"]
            assert [d["n"] for d in seen] == ["late id"]
            last_seen = seen[0]["id"]
            # The page disconnects here (it misses the next live message), then catches up.
            slow.commit()
        finally:
            slow.close()
            fast.close()
            db.session.remove()

    caught = page.call("events.since", {"rooms": [room], "after": last_seen}, timeout=10)
    assert caught["ok"], caught
    assert [e["n"] for e in caught["events"] if e["name"] == "test.order"] == ["early id"]
    # From the start, both come in commit order, each once.
    replay = page.call("events.since", {"rooms": [room], "after": start}, timeout=10)
    names = [e["n"] for e in replay["events"] if e["name"] == "test.order"]
    assert names == ["late id", "early id"]
    positions = [e["id"] for e in replay["events"]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_the_ordering_lock_is_taken_after_every_row_lock(live_server: Any, database_url: str):
    """Two transactions publish and change the same row: the one holding the row commits while the other
    waits for it. The ordering lock must come after the rows (else each waits for the other: a deadlock,
    seen as a 500 when one person posted two comments at once)."""
    import threading

    from sqlalchemy import select, text

    from pdz.accounts.models import User
    from pdz.extensions import db
    from pdz.realtime import publish_after_commit

    with live_server.app.app_context():
        holder, waiter = db.session.session_factory(), db.session.session_factory()
        holder.autoflush = waiter.autoflush = False
        try:
            email = "membro@example.org"
            row = holder.scalars(select(User).where(User.email == email)).one()
            row.full_name = row.full_name + " (1)"
            holder.flush()  # the holder has the row
            publish_after_commit("tavolo:1", "test.lock", {"n": "waiter"}, session=waiter)  # flushes
            other = waiter.scalars(select(User).where(User.email == email)).one()
            other.full_name = other.full_name + " (2)"  # not flushed yet: at commit
            waiter_pid = waiter.execute(text("SELECT pg_backend_pid()")).scalar_one()
            errors: list[BaseException] = []

            def commit_waiter() -> None:
                try:
                    with live_server.app.app_context():
                        waiter.commit()
                except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                    errors.append(error)

            thread = threading.Thread(target=commit_waiter)
            thread.start()
            wait_for(
                lambda: scalar(
                    database_url,
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'",
                    pid=int(waiter_pid),
                ),
                "the waiter blocked on a lock",
            )
            publish_after_commit("tavolo:1", "test.lock", {"n": "holder"}, session=holder)
            holder.commit()  # takes the ordering lock: the waiter must not hold it yet
            thread.join(timeout=30)
            assert not thread.is_alive()
            assert errors == []
        finally:
            holder.close()
            waiter.close()
            db.session.remove()


def test_catch_up_answers_how_far_it_is_complete(live_server: Any, socket_client: Any, database_url: str):
    """`events.since` answers `as_of`: every event of the rooms up to it is in the answer. A page that asks
    from `as_of` next time gets an event whose live message it never received, even when it received later
    ones live (so "after the last id seen" would skip it); a page of answers stops at the last event given."""
    from pdz.extensions import db
    from pdz.realtime import publish_after_commit, replay

    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    room = f"tavolo:{body_id}"
    page = socket_client("membro@example.org")
    joined = page.call("room.join", {"room": room}, timeout=10)
    first = page.call("events.since", {"rooms": [room], "after": joined["last_event_id"]}, timeout=10)
    assert first["ok"] and first["events"] == []
    synced_to = first["as_of"]
    with live_server.app.app_context():
        for n in ("lost", "live 1", "live 2"):
            session = db.session.session_factory()
            try:
                publish_after_commit(room, "test.order", {"n": n}, session=session)
                if n == "lost":  # its live message never leaves (as when the message queue is down)
                    session.info["pdz_on_commit"] = []
                session.commit()
            finally:
                session.close()
        wait_for(lambda: len([d for e, d in page.received if e == "test.order"]) == 2, "two live messages")
        live = [d for e, d in page.received if e == "test.order"]
        assert [d["n"] for d in live] == ["live 1", "live 2"]
        # "After the last id seen" cannot find the lost one; "after as_of" does, and moves as_of on.
        assert (
            page.call("events.since", {"rooms": [room], "after": live[-1]["id"]}, timeout=10)["events"] == []
        )
        answer = page.call("events.since", {"rooms": [room], "after": synced_to}, timeout=10)
        assert [e["n"] for e in answer["events"] if e["name"] == "test.order"] == ["lost", "live 1", "live 2"]
        assert answer["as_of"] >= live[-1]["id"]
        # A limited answer is complete only up to its last event.
        events, as_of = replay([room], synced_to, limit=2)
        assert [e["n"] for e in events] == ["lost", "live 1"] and as_of == events[-1]["id"]
        rest, _as_of = replay([room], as_of, limit=2)
        assert [e["n"] for e in rest] == ["live 2"]
        db.session.remove()
