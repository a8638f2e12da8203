"""Two real clients (HTTP + Socket.IO) on one card: live updates, presence, merges and conflicts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import http_session


def wait_for(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def events(client: Any, name: str) -> list[Any]:
    return [data for event, data in list(client.received) if event == name]


@pytest.fixture
def card_a(live_server: Any) -> dict[str, Any]:
    engine = create_engine(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        row = connection.execute(text("SELECT id, revision_no, body_id FROM cards WHERE key = 'A'")).one()
        context = connection.execute(
            text("SELECT value_source FROM card_values WHERE card_id = :c AND key = 'context'"), {"c": row[0]}
        ).scalar_one()
    engine.dispose()
    return {"id": row[0], "revision": row[1], "body_id": row[2], "context": context}


def csrf_for(session: Any, server: Any, card_id: int) -> str:
    page = session.get(f"{server.url}/schede/{card_id}")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


def post_save(session: Any, server: Any, card_id: int, token: str, **payload: Any) -> Any:
    return session.post(
        f"{server.url}/schede/{card_id}/campi",
        json=payload,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        timeout=5,
    )


def test_two_clients_edit_the_same_field_live(
    live_server: Any, socket_client: Any, card_a: dict[str, Any]
) -> None:
    card_id, room = card_a["id"], f"card:{card_a['id']}"
    one = socket_client("coord.pubblico@example.org")
    two = socket_client("membro@example.org")
    for client in (one, two):
        assert client.call("room.join", {"room": room}, timeout=5)["ok"] is True
    token_one, token_two = csrf_for(one.http, live_server, card_id), csrf_for(two.http, live_server, card_id)

    # Presence: two starts editing the context, one sees who.
    assert two.call("field.focus", {"card_id": card_id, "field": "context"}, timeout=5)["ok"] is True
    focus = wait_for(lambda: events(one, "field.focus"))
    assert focus[0]["field"] == "context" and focus[0]["name"]

    # One saves: two sees the new text within a second, without reloading.
    base, base_rev = card_a["context"], card_a["revision"]
    started = time.monotonic()
    saved = post_save(
        one.http,
        live_server,
        card_id,
        token_one,
        field="context",
        value="INIZIO " + base,
        base_revision=base_rev,
        client_op_id="op-one-0001",
    )
    assert saved.status_code == 200, saved.text
    update = wait_for(
        lambda: [e for e in events(two, "card.updated") if e["rev"] == saved.json()["revision"]], timeout=1.0
    )
    assert time.monotonic() - started < 1.0
    assert update[0]["changes"][0]["value"] == "INIZIO " + base
    assert update[0]["author"]

    # Two saved from the old base, at the other end of the text: merged, both edits kept, one sees it.
    merged = post_save(
        two.http,
        live_server,
        card_id,
        token_two,
        field="context",
        value=base + " FINE",
        base_revision=base_rev,
        client_op_id="op-two-0001",
    )
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert merged.json()["value"] == "INIZIO " + base + " FINE"
    wait_for(
        lambda: [
            e for e in events(one, "card.updated") if e["changes"][0]["value"] == "INIZIO " + base + " FINE"
        ],
        timeout=1.0,
    )

    # Both change the same word from the same base: the later saver gets both versions, nothing overwritten.
    rev = merged.json()["revision"]
    current = merged.json()["value"]
    first = post_save(
        one.http,
        live_server,
        card_id,
        token_one,
        field="context",
        value=current.replace("INIZIO", "AVVIO"),
        base_revision=rev,
        client_op_id="op-one-0002",
    )
    assert first.status_code == 200
    clash = post_save(
        two.http,
        live_server,
        card_id,
        token_two,
        field="context",
        value=current.replace("INIZIO", "PARTENZA"),
        base_revision=rev,
        client_op_id="op-two-0002",
    )
    assert clash.status_code == 409
    assert "PARTENZA" in clash.json()["mine"] and "AVVIO" in clash.json()["theirs"]
    # A retried save (same op id, e.g. after a network error) is answered, not applied twice.
    retry = post_save(
        one.http,
        live_server,
        card_id,
        token_one,
        field="context",
        value=current.replace("INIZIO", "AVVIO"),
        base_revision=rev,
        client_op_id="op-one-0002",
    )
    assert retry.json()["status"] == "duplicate" and retry.json()["revision"] == first.json()["revision"]

    # Blur clears the presence mark; a reconnecting page replays what it missed.
    assert two.call("field.blur", {"card_id": card_id}, timeout=5)["ok"] is True
    wait_for(lambda: events(one, "field.blur"))
    replay = two.call("events.since", {"rooms": [room], "after": 0}, timeout=5)
    revisions = [e["rev"] for e in replay["events"] if e["name"] == "card.updated"]
    assert saved.json()["revision"] in revisions and first.json()["revision"] in revisions


def test_room_and_presence_are_permission_checked(
    live_server: Any, socket_client: Any, card_a: dict[str, Any]
) -> None:
    card_id, room = card_a["id"], f"card:{card_a['id']}"
    outsider = socket_client("disabilita@example.org")
    assert outsider.call("room.join", {"room": room}, timeout=5)["ok"] is False
    assert outsider.call("field.focus", {"card_id": card_id, "field": "context"}, timeout=5)["ok"] is False
    observer = socket_client("osservatore@example.org")
    assert observer.call("room.join", {"room": room}, timeout=5)["ok"] is True
    assert observer.call("field.focus", {"card_id": card_id, "field": "context"}, timeout=5)["ok"] is False


def test_csrf_is_required_for_saves(live_server: Any, card_a: dict[str, Any]) -> None:
    session = http_session(live_server, "membro@example.org")
    response = session.post(
        f"{live_server.url}/schede/{card_a['id']}/campi",
        json={"field": "context", "value": "x", "base_revision": card_a["revision"]},
        headers={"Accept": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400


def test_concurrent_saves_of_one_field_lose_nothing(live_server: Any, card_a: dict[str, Any]) -> None:
    """Six people save to the same field at the same moment, from stale bases, again and again."""
    import threading

    card_id = card_a["id"]
    emails = [
        "coord.pubblico@example.org",
        "coord.ets@example.org",
        "membro@example.org",
        "udp@example.org",
        "admin@example.org",
        "membro@example.org",
    ]
    sessions = [http_session(live_server, email) for email in emails]
    tokens = [csrf_for(session, live_server, card_id) for session in sessions]
    accepted: list[str] = []
    conflicted: list[str] = []
    start = threading.Barrier(len(sessions))

    def editor(index: int) -> None:
        base_rev, base = card_a["revision"], card_a["context"]
        start.wait()
        for round_ in range(4):
            marker = f"C{index}R{round_}X"
            words = base.split(" ")
            position = (index * 7 + round_ * 3) % (len(words) + 1)
            mine = " ".join([*words[:position], marker, *words[position:]])
            response = post_save(
                sessions[index],
                live_server,
                card_id,
                tokens[index],
                field="context",
                value=mine,
                base_revision=base_rev,
                base_value=base,
            )
            data = response.json()
            if response.status_code == 200:
                accepted.append(marker)
                base_rev, base = data["revision"], data["value"]
            else:
                assert response.status_code == 409 and data["status"] == "conflict", data
                assert marker in data["mine"]
                conflicted.append(marker)
                base_rev, base = data["revision"], data["theirs"]

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(accepted) + len(conflicted) == 24
    engine = create_engine(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        final = connection.execute(
            text("SELECT value_source FROM card_values WHERE card_id = :c AND key = 'context'"),
            {"c": card_id},
        ).scalar_one()
        recorded = [
            row[0]
            for row in connection.execute(
                text("SELECT mine FROM card_conflicts WHERE card_id = :c"), {"c": card_id}
            )
        ]
        chain = connection.execute(
            text(
                "SELECT before, after FROM card_revisions WHERE card_id = :c AND field = 'context' ORDER BY number"
            ),
            {"c": card_id},
        ).all()
    engine.dispose()
    for marker in accepted:
        assert marker in final, marker
    for marker in conflicted:
        assert any(marker in mine for mine in recorded), marker
    for earlier, later in zip(chain, chain[1:], strict=False):
        assert (
            earlier[1] == later[0]
        )  # every save started from the text the previous one left: none overwritten
