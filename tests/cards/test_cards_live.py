"""Real clients (HTTP + Socket.IO) co-writing one card through the engine: live text, presence, permissions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import http_session

from pdz.coedit.engine import unwire, wire
from pdz.coedit.pyclient import Editor
from pdz.coedit.sockets import decode_awareness, encode_awareness


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def events(client: Any, name: str) -> list[Any]:
    return [data for event, data in list(client.received) if event == name]


def query(server: Any, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        rows = list(connection.execute(text(sql), params))
    engine.dispose()
    return rows


@pytest.fixture
def card_a(live_server: Any) -> dict[str, Any]:
    row = query(live_server, "SELECT id, revision_no, body_id FROM cards WHERE key = 'A'")[0]
    context = query(
        live_server, "SELECT value_source FROM card_values WHERE card_id = :c AND key = 'context'", c=row[0]
    )[0][0]
    return {"id": row[0], "revision": row[1], "body_id": row[2], "context": context, "doc": f"card:{row[0]}"}


def stored(server: Any, card_id: int, key: str) -> str:
    rows = query(
        server, "SELECT value_source FROM card_values WHERE card_id = :c AND key = :k", c=card_id, k=key
    )
    return rows[0][0] if rows else ""


def test_two_editors_in_one_field_see_each_others_text(
    live_server: Any, socket_client: Any, card_a: dict[str, Any]
) -> None:
    one = Editor(socket_client("coord.pubblico@example.org"), card_a["doc"])
    two = Editor(socket_client("membro@example.org"), card_a["doc"])
    for editor in (one, two):
        joined = editor.join()
        assert joined["ok"] is True and joined["readonly"] is False, joined
        assert joined["limits"]["context"] == 20_000 and joined["limits"]["title"] == 300
        assert editor.text("context") == card_a["context"]
    assert one.insert("context", 0, "INIZIO ", wait=True)["ok"] is True
    assert two.append("context", " FINE", wait=True)["ok"] is True
    expected = "INIZIO " + card_a["context"] + " FINE"
    wait_for(lambda: one.text("context") == expected and two.text("context") == expected)
    assert stored(live_server, card_a["id"], "context") == expected


def test_presence_carries_the_senders_real_name(
    live_server: Any, socket_client: Any, card_a: dict[str, Any]
) -> None:
    one = Editor(socket_client("coord.pubblico@example.org"), card_a["doc"])
    two = Editor(socket_client("membro@example.org"), card_a["doc"])
    assert one.join()["ok"] and two.join()["ok"]
    real = query(live_server, "SELECT id, full_name FROM users WHERE email = 'membro@example.org'")[0]
    spoofed = {"field": "context", "user": {"id": 1, "name": "Qualcun Altro", "color": "#000"}}
    msg = wire(encode_awareness([(4242, 1, spoofed)]))
    assert two.sio.call("coedit.awareness", {"doc": card_a["doc"], "msg": msg}, timeout=5)["ok"] is True

    def seen() -> Any:
        for data in events(one.sio, "coedit.awareness"):
            if data["doc"] == card_a["doc"]:
                for client, _clock, state in decode_awareness(unwire(data["msg"])):
                    if client == 4242 and state:
                        return state
        return None

    state = wait_for(seen)
    assert state["field"] == "context"
    assert state["user"]["name"] == real[1] != "Qualcun Altro"
    assert state["user"]["id"] == real[0]
    # The sender does not get its own presence back.
    assert not [d for d in events(two.sio, "coedit.awareness") if d["doc"] == card_a["doc"]]


def test_observer_joins_read_only_and_its_update_is_refused(
    live_server: Any, socket_client: Any, card_a: dict[str, Any]
) -> None:
    observer = Editor(socket_client("osservatore@example.org"), card_a["doc"])
    joined = observer.join()
    assert joined["ok"] is True and joined["readonly"] is True
    assert observer.text("context") == card_a["context"]
    answer = observer.insert("context", 0, "NON AMMESSO ", wait=True)
    assert answer["ok"] is False and answer["error"] == "forbidden", answer
    assert stored(live_server, card_a["id"], "context") == card_a["context"]
    assert (
        query(live_server, "SELECT revision_no FROM cards WHERE id = :c", c=card_a["id"])[0][0]
        == card_a["revision"]
    )


def test_outsider_cannot_join_nor_send(live_server: Any, socket_client: Any, card_a: dict[str, Any]) -> None:
    outsider = Editor(socket_client("disabilita@example.org"), card_a["doc"])
    joined = outsider.join()
    assert joined["ok"] is False and joined["error"] == "forbidden", joined
    assert outsider.text("context") == ""  # nothing of the card was sent
    answer = outsider.insert("context", 0, "X", wait=True)
    assert answer["ok"] is False
    assert stored(live_server, card_a["id"], "context") == card_a["context"]


def test_member_removed_from_the_tavolo_is_refused_and_told(
    live_server: Any, socket_client: Any, card_a: dict[str, Any]
) -> None:
    member = Editor(socket_client("membro@example.org"), card_a["doc"])
    assert member.join()["ok"] is True
    assert member.append("context", " prima", wait=True)["ok"] is True
    membership_id = query(
        live_server,
        "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE u.email = 'membro@example.org' AND m.body_id = :b AND m.ended_at IS NULL",
        b=card_a["body_id"],
    )[0][0]
    # A co-coordinator removes the member through the members page's form (CSRF on).
    coordinator = http_session(live_server, "coord.pubblico@example.org")
    page = coordinator.get(f"{live_server.url}/tavoli/{card_a['body_id']}/componenti")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page.text
    )
    assert token, page.text[:300]
    removed = coordinator.post(
        f"{live_server.url}/tavoli/{card_a['body_id']}/componenti/{membership_id}/rimuovi",
        data={"csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=5,
    )
    assert removed.status_code in (302, 303), removed.text[:500]
    answer = member.append("context", " dopo", wait=True)
    # refused by the commit's check, or already out of the document's room: either way nothing is stored
    assert answer["ok"] is False and answer["error"] in {"forbidden", "not_joined"}, answer
    assert stored(live_server, card_a["id"], "context") == card_a["context"] + " prima"
    revoked = wait_for(lambda: [d for d in events(member.sio, "coedit.revoked") if d["doc"] == card_a["doc"]])
    assert revoked[0]["readonly"] is True


def test_a_refusal_in_one_app_is_not_reused_by_another_app_in_the_same_process(
    live_server: Any,
    socket_client: Any,
    card_a: dict[str, Any],
    backend: str,
    templates: dict[str, str],
    run_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (CI flake): the permission cache was keyed by document and person only, so the removal of
    a member in one test's app refused the same member on the same card id in the next test's app."""
    import socketio
    from tests.conftest import LiveServer, fast_close, fresh_database, make_app

    monkeypatch.setattr("pdz.coedit.engine.PERMISSION_TTL", 600.0)  # the cached answer outlives the test
    member = Editor(socket_client("membro@example.org"), card_a["doc"])
    assert member.join()["ok"] is True
    # The membership ends behind the app's back (no signal), so the refusal comes from the engine's own
    # check of the next update, which caches "forbidden" for (card A, membro).
    engine = create_engine(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE memberships SET ended_at = CURRENT_TIMESTAMP WHERE body_id = :b AND ended_at IS NULL "
                "AND user_id = (SELECT id FROM users WHERE email = 'membro@example.org')"
            ),
            {"b": card_a["body_id"]},
        )
    engine.dispose()
    refused = member.append("context", " no", wait=True)
    assert refused["ok"] is False and refused["error"] == "forbidden", refused

    # A second app in the same process, on a fresh copy of the demo where membro is still a member.
    from pdz.extensions import db

    with fresh_database(backend, templates, run_dir) as url:
        other_app = make_app(url, run_dir, WTF_CSRF_ENABLED=True)
        other = LiveServer(other_app).start()
        client = socketio.Client(reconnection=False)
        try:
            session = http_session(other, "membro@example.org")
            client.connect(
                other.url,
                headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)},
                transports=["websocket"],
                wait_timeout=5,
            )
            again = Editor(client, card_a["doc"])
            assert again.join()["ok"] is True
            answer = again.append("context", " sì", wait=True)
            assert answer["ok"] is True, answer
        finally:
            fast_close(client)
            client.disconnect()
            other.stop()
            with other_app.app_context():
                db.session.remove()
                db.engine.dispose()
