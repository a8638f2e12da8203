"""Socket.IO on the real server: sign-in required, rooms checked by the policy, replay after reconnect."""

from __future__ import annotations

import time
from typing import Any

import pytest
import socketio
from sqlalchemy import select


def wait_for(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_anonymous_socket_is_refused(live_server: Any) -> None:
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, transports=["websocket"], wait_timeout=5)


def _tavolo_id(live_server: Any, name: str) -> int:
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        return db.session.scalar(select(Body.id).where(Body.name == name))


def test_room_join_is_checked_by_the_policy(live_server: Any, socket_client: Any) -> None:
    tavolo_id = _tavolo_id(live_server, "Tavolo Povertà")
    member = socket_client("membro@example.org")
    outsider = socket_client("disabilita@example.org")
    assert member.call("room.join", {"room": f"tavolo:{tavolo_id}"}, timeout=5)["ok"] is True
    assert outsider.call("room.join", {"room": f"tavolo:{tavolo_id}"}, timeout=5) == {
        "ok": False,
        "error": "forbidden",
    }
    assert member.call("room.join", {"room": "user:1"}, timeout=5)["ok"] is False
    assert member.call("room.join", {"room": "nonsense"}, timeout=5)["ok"] is False


def test_removal_reaches_the_open_page_and_replay_returns_it_once(
    live_server: Any, socket_client: Any
) -> None:
    from conftest import http_session

    tavolo_id = _tavolo_id(live_server, "Tavolo Povertà")
    member = socket_client("membro@example.org")
    ack = member.call("room.join", {"room": f"tavolo:{tavolo_id}"}, timeout=5)
    coordinator = http_session(live_server, "coord.ets@example.org")
    page = coordinator.get(f"{live_server.url}/tavoli/{tavolo_id}/componenti").text
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    from pdz.accounts.models import User
    from pdz.extensions import db
    from pdz.tavoli.models import Membership

    with live_server.app.app_context():
        membership = db.session.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == "membro@example.org", Membership.body_id == tavolo_id)
        )
        membership_id, user_id = membership.id, membership.user_id
    response = coordinator.post(
        f"{live_server.url}/tavoli/{tavolo_id}/componenti/{membership_id}/rimuovi",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 302
    event = wait_for(lambda: next((d for n, d in member.received if n == "membership.ended"), None))
    assert event["body_id"] == tavolo_id
    # after the removal the tavolo room is refused, and replay of its own room returns the event once
    assert member.call("room.join", {"room": f"tavolo:{tavolo_id}"}, timeout=5)["ok"] is False
    replay = member.call(
        "events.since",
        {"rooms": [f"user:{user_id}", f"tavolo:{tavolo_id}"], "after": ack["last_event_id"]},
        timeout=5,
    )
    assert replay["rooms"] == [f"user:{user_id}"]
    assert [e["name"] for e in replay["events"]] == ["membership.ended"]
