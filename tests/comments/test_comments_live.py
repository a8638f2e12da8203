"""Real Socket.IO clients against a real server: delivery, order, join permission, catch-up after a
disconnect, retried sends stored once, forged events, and removal from a tavolo cutting open sockets."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio
import websocket
from sqlalchemy import create_engine, text


@pytest.fixture(autouse=True)
def quick_websocket_close(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The threaded werkzeug server ends a websocket without answering the client's close frame, so
    websocket-client would wait its full 3 s close timeout on every disconnect."""
    original = websocket.WebSocket.close

    def close(
        self: Any, status: int = websocket.STATUS_NORMAL, reason: bytes = b"", timeout: float = 3
    ) -> None:
        original(self, status, reason, timeout=min(timeout, 0.2))

    monkeypatch.setattr(websocket.WebSocket, "close", close)
    yield


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {message}")


def ids_of(client: Any, name: str = "comment.created") -> list[int]:
    return [data["comment"]["id"] for event, data in list(client.received) if event == name]


def scalar(database_url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def remove_member(session: Any, base_url: str, database_url: str, body_id: int, email: str) -> None:
    """A co-coordinator's signed-in `session` ends `email`'s membership of the body through its members page."""
    membership_id = scalar(
        database_url,
        "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE u.email = :e AND m.body_id = :b AND m.ended_at IS NULL",
        e=email,
        b=body_id,
    )
    page = session.get(f"{base_url}/tavoli/{body_id}/componenti")
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)
    removed = session.post(
        f"{base_url}/tavoli/{body_id}/componenti/{membership_id}/rimuovi",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert removed.status_code == 302


@pytest.fixture
def poverta_id(database_url: str) -> int:
    return int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))


def comment(client: Any, body_id: int, text_: str, op_id: str | None = None, **extra: Any) -> dict[str, Any]:
    message = {
        "body_id": body_id,
        "target_kind": "tavolo",
        "target_id": body_id,
        "text": text_,
        "client_op_id": op_id or uuid.uuid4().hex,
        **extra,
    }
    return client.call("comment.create", message, timeout=5)


def joined(client: Any, room: str) -> dict[str, Any]:
    answer = client.call("room.join", {"room": room}, timeout=5)
    assert answer["ok"], answer
    return answer


def test_comments_reach_every_reader_live_in_order_and_outsiders_are_refused(socket_client, poverta_id):
    room = f"tavolo:{poverta_id}"
    member, coord, observer = (
        socket_client(e) for e in ("membro@example.org", "coord.ets@example.org", "osservatore@example.org")
    )
    outsider = socket_client("disabilita@example.org")
    for client in (coord, observer):
        joined(client, room)
    assert outsider.call("room.join", {"room": room}, timeout=5) == {"ok": False, "error": "forbidden"}
    sent = [comment(member, poverta_id, f"Messaggio {i}")["comment"]["id"] for i in range(3)]
    for client in (coord, observer):
        wait_for(lambda c=client: len(ids_of(c)) == 3, message="three live comments")
        assert ids_of(client) == sent  # in order, once
    answer = comment(observer, poverta_id, "Anche gli osservatori commentano")
    assert answer["ok"] and answer["created"]
    wait_for(lambda: len(ids_of(coord)) == 4)
    assert ids_of(outsider) == []
    assert not [e for e, _ in outsider.received if e.startswith("comment.")]


def test_a_page_that_was_disconnected_gets_exactly_what_it_missed_in_order(socket_client, poverta_id):
    room = f"tavolo:{poverta_id}"
    member, coord = socket_client("membro@example.org"), socket_client("coord.ets@example.org")
    comment(member, poverta_id, "Prima della disconnessione")
    last_seen = joined(coord, room)["last_event_id"]
    coord.disconnect()
    missed = [comment(member, poverta_id, f"Mentre eri via {i}")["comment"]["id"] for i in range(3)]
    again = socket_client("coord.ets@example.org")
    joined(again, room)
    replay = again.call("events.since", {"rooms": [room], "after": last_seen}, timeout=5)
    assert replay["ok"] and replay["rooms"] == [room]
    assert [e["comment"]["id"] for e in replay["events"] if e["name"] == "comment.created"] == missed
    event_ids = [e["id"] for e in replay["events"]]
    assert event_ids == sorted(event_ids) and len(set(event_ids)) == len(event_ids)
    assert again.call("events.since", {"rooms": [room], "after": event_ids[-1]}, timeout=5)["events"] == []


def test_a_comment_written_offline_is_sent_on_reconnect_and_stored_once(
    socket_client, poverta_id, database_url, live_server
):
    room = f"tavolo:{poverta_id}"
    coord = socket_client("coord.ets@example.org")
    joined(coord, room)
    member = socket_client("membro@example.org")
    op_id = uuid.uuid4().hex
    first = comment(
        member, poverta_id, "Scritto offline", op_id
    )  # the ack is lost: the page still has it pending
    member.disconnect()
    back = socket_client("membro@example.org")
    retry = comment(back, poverta_id, "Scritto offline", op_id)
    assert retry["ok"] and retry["created"] is False and retry["comment"]["id"] == first["comment"]["id"]
    session = back.http
    page = session.get(live_server.url + f"/tavoli/{poverta_id}/discussione")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    http_retry = session.post(
        live_server.url + f"/tavoli/{poverta_id}/commenti",
        json={
            "target_kind": "tavolo",
            "target_id": poverta_id,
            "text": "Scritto offline",
            "client_op_id": op_id,
        },
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert http_retry.status_code == 201 and http_retry.json()["created"] is False
    assert scalar(database_url, "SELECT count(*) FROM comments WHERE client_op_id = :op", op=op_id) == 1
    sentinel = comment(back, poverta_id, "Dopo i tentativi")["comment"]["id"]
    wait_for(lambda: sentinel in ids_of(coord), message="sentinel comment")
    assert ids_of(coord) == [first["comment"]["id"], sentinel]  # the retries published nothing


def test_forged_or_malformed_socket_events_are_refused_and_store_nothing(
    socket_client, poverta_id, database_url, live_server
):
    member = socket_client("membro@example.org")
    other = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Permanente Disabilità'"))
    not_member = comment(member, other, "Intruso")
    assert not_member["ok"] is False and not_member["status"] == 403
    wrong_target = comment(member, poverta_id, "Bersaglio sbagliato", target_id=other)
    assert wrong_target["ok"] is False and wrong_target["status"] == 404
    for garbage in (
        None,
        "testo",
        {"body_id": "x"},
        {"body_id": poverta_id, "target_kind": "tavolo", "target_id": poverta_id},
    ):
        answer = member.call("comment.create", garbage, timeout=5)
        assert answer["ok"] is False, garbage
    assert member.call("room.join", {"room": f"tavolo:{other}"}, timeout=5)["ok"] is False
    assert member.call("room.join", {"room": "user:1"}, timeout=5)["ok"] is False
    replay = member.call("events.since", {"rooms": [f"tavolo:{other}", "user:1"], "after": 0}, timeout=5)
    assert replay == {"ok": True, "rooms": [], "events": [], "as_of": replay["as_of"]}
    assert scalar(database_url, "SELECT count(*) FROM comments WHERE client_op_id NOT LIKE 'demo-%'") == 0
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(live_server.url, transports=["websocket"], wait_timeout=5)


def test_someone_removed_from_the_tavolo_stops_receiving_at_once(
    socket_client, poverta_id, database_url, live_server
):
    room = f"tavolo:{poverta_id}"
    member, coord = socket_client("membro@example.org"), socket_client("coord.ets@example.org")
    joined(member, room)
    joined(coord, room)
    remove_member(coord.http, live_server.url, database_url, poverta_id, "membro@example.org")
    wait_for(lambda: any(e == "membership.ended" for e, _ in member.received), message="membership.ended")
    wait_for(
        lambda: any(e == "room.revoked" and d == {"room": room} for e, d in member.received),
        message="room.revoked",
    )
    assert member.call("room.join", {"room": room}, timeout=5)["ok"] is False  # the page may not rejoin
    # Only that person leaves: the others stay in the room, untouched.
    assert not any(e in {"room.revoked", "room.closed"} for e, _ in coord.received)
    posted = comment(coord, poverta_id, "Dopo l'uscita")["comment"]["id"]
    wait_for(lambda: posted in ids_of(coord), message="coordinator receives")
    assert posted not in ids_of(member)
    assert member.call("events.since", {"rooms": [room], "after": 0}, timeout=5)["events"] == []
    assert comment(member, poverta_id, "Sono ancora qui?")["status"] == 403
