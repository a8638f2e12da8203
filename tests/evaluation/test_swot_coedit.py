"""SWOT entries co-written through the engine, over a real server: Socket.IO editors (`pdz.coedit.pyclient`)
and HTTP, as in the page. Expectations follow docs/permissions.md: members and co-coordinators write while the
SWOT is open (`swot.write`), observers read (`swot.view`), nobody writes once it is closed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from pdz.coedit.pyclient import Editor

COORD, COORD_ETS, MEMBER, OBSERVER = (
    "coord.pubblico@example.org",
    "coord.ets@example.org",
    "membro@example.org",
    "osservatore@example.org",
)


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Db:
    """Reads the live server's database directly (what is committed)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def all(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())

    def one(self, sql: str, **params: Any) -> Any:
        rows = self.all(sql, **params)
        return rows[0][0] if rows else None


@pytest.fixture
def database(live_server: Any) -> Any:
    db = Db(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    yield db
    db.engine.dispose()


def token(session: Any, url: str) -> str:
    page = session.get(url).text
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert found, page[:300]
    return found.group(1)


@pytest.fixture
def swot(live_server: Any, socket_client: Any, database: Db) -> dict[str, Any]:
    """A SWOT opened by a co-coordinator of Tavolo Povertà, with one entry written by a member."""
    coord = socket_client(COORD).http
    body_id = database.one("SELECT id FROM bodies WHERE name = 'Tavolo Povertà'")
    opened = coord.post(
        f"{live_server.url}/tavoli/{body_id}/swot",
        data={
            "csrf_token": token(coord, f"{live_server.url}/tavoli/{body_id}/swot"),
            "year": "2026",
            "kind": "annuale",
        },
        allow_redirects=False,
    )
    assert opened.status_code == 302, opened.text[:300]
    assessment_id = int(opened.headers["Location"].rstrip("/").split("/")[-1])
    entry = add(live_server, socket_client(MEMBER).http, assessment_id, "Rete ampia.")
    return {"id": assessment_id, "body_id": body_id, "entry": entry, "key": f"entry:{entry}"}


def add(server: Any, session: Any, assessment_id: int, words: str) -> int:
    reply = session.post(
        f"{server.url}/swot/{assessment_id}/voci",
        json={"dimension": "mandato", "quadrant": "S", "text": words},
        headers={"X-CSRFToken": token(session, f"{server.url}/swot/{assessment_id}")},
    )
    assert reply.status_code == 200, reply.text[:300]
    return int(reply.json()["entry"]["id"])


def stored(database: Db, entry_id: int) -> str:
    return str(database.one("SELECT text_source FROM swot_entries WHERE id = :e", e=entry_id))


def editor(socket_client: Any, email: str, swot: dict[str, Any]) -> Editor:
    return Editor(socket_client(email), f"swot:{swot['id']}")


def test_two_people_write_in_the_same_entry_at_once_and_both_texts_survive(
    socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    key = swot["key"]
    one, two = editor(socket_client, COORD_ETS, swot), editor(socket_client, MEMBER, swot)
    assert one.join()["ok"] and two.join()["ok"]
    assert one.text(key) == two.text(key) == "Rete ampia."  # the text given when the entry was added

    one.insert(key, 0, "Molto: ")  # both send before either has seen the other's change
    two.append(key, " Da estendere ai comuni piccoli.")
    wait_for(lambda: one.pending == 0 and two.pending == 0)
    assert one.refused == [] and two.refused == []
    expected = "Molto: Rete ampia. Da estendere ai comuni piccoli."
    wait_for(lambda: one.text(key) == two.text(key) == expected)
    assert stored(database, swot["entry"]) == expected  # committed before the acks came back
    html = database.one("SELECT text_html FROM swot_entries WHERE id = :e", e=swot["entry"])
    assert "Molto: Rete ampia." in html


def test_revisions_are_grouped_by_author_and_a_late_joiner_reads_the_text(
    socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    key, entry = swot["key"], swot["entry"]
    member, coord = editor(socket_client, MEMBER, swot), editor(socket_client, COORD_ETS, swot)
    assert member.join()["ok"] and coord.join()["ok"]
    for word in (" Molto", " attiva."):  # the author who added it keeps writing: the first revision grows
        assert member.append(key, word, wait=True)["ok"]
    wait_for(lambda: coord.text(key) == "Rete ampia. Molto attiva.")
    for at, word in (
        (0, "Una "),
        (4, "buona "),
    ):  # someone else writes: a new revision, growing while they write
        assert coord.insert(key, at, word, wait=True)["ok"]
    wait_for(lambda: member.text(key) == "Una buona Rete ampia. Molto attiva.")
    assert member.append(key, " Fine.", wait=True)["ok"]

    rows = database.all(
        "SELECT r.version, u.email, r.text FROM swot_entry_revisions r JOIN users u ON u.id = r.author_id"
        " WHERE r.entry_id = :e ORDER BY r.version",
        e=entry,
    )
    assert [tuple(r) for r in rows] == [
        (1, MEMBER, "Rete ampia. Molto attiva."),
        (2, COORD_ETS, "Una buona Rete ampia. Molto attiva."),
        (3, MEMBER, "Una buona Rete ampia. Molto attiva. Fine."),
    ]
    assert database.one("SELECT version FROM swot_entries WHERE id = :e", e=entry) == 3
    audited = database.all(
        "SELECT details FROM audit_entries WHERE action = 'swot.entry_edited' AND object_id = :e ORDER BY id",
        e=entry,
    )
    assert len(audited) == 2  # one per revision opened, not per keystroke

    late = editor(socket_client, OBSERVER, swot)
    assert late.join()["ok"] and late.text(key) == "Una buona Rete ampia. Molto attiva. Fine."


def test_an_observer_reads_but_its_updates_are_refused(
    socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    observer = editor(socket_client, OBSERVER, swot)
    joined = observer.join()
    assert joined["ok"] is True and joined["readonly"] is True
    answer = observer.insert(swot["key"], 0, "Intruso: ", wait=True)
    assert answer["ok"] is False and answer["error"] == "forbidden"
    assert stored(database, swot["entry"]) == "Rete ampia."
    fresh = editor(socket_client, MEMBER, swot)
    assert fresh.join()["ok"] and fresh.text(swot["key"]) == "Rete ampia."

    outsider = editor(socket_client, "disabilita@example.org", swot)
    refused = outsider.join()
    assert refused["ok"] is False and refused["error"] == "forbidden"


def test_a_closed_swot_refuses_every_update(
    live_server: Any, socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    member = editor(socket_client, MEMBER, swot)
    assert member.join()["readonly"] is False
    coord = socket_client(COORD).http
    url = f"{live_server.url}/swot/{swot['id']}"
    closed = coord.post(f"{url}/chiudi", data={"csrf_token": token(coord, url)}, allow_redirects=False)
    assert closed.status_code == 302
    answer = member.insert(swot["key"], 0, "Dopo la chiusura: ", wait=True)  # already open in the page
    assert answer["ok"] is False and answer["error"] == "forbidden"
    again = editor(socket_client, COORD, swot)
    assert again.join()["readonly"] is True  # co-coordinators too
    assert again.insert(swot["key"], 0, "No", wait=True)["error"] == "forbidden"
    assert stored(database, swot["entry"]) == "Rete ampia."


def test_entries_of_another_assessment_or_removed_are_not_in_the_document(
    live_server: Any, socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    other = database.one("SELECT min(id) FROM swot_entries WHERE assessment_id != :a", a=swot["id"])
    before = stored(database, other)
    member = editor(socket_client, MEMBER, swot)
    assert member.join()["ok"]
    answer = member.insert(f"entry:{other}", 0, "Scritto altrove", wait=True)
    assert answer["ok"] is False and answer["error"] == "invalid"
    assert stored(database, other) == before

    session = socket_client(MEMBER).http
    gone = add(live_server, session, swot["id"], "Da togliere")
    url = f"{live_server.url}/swot/{swot['id']}"
    removed = session.post(
        f"{url}/voci/{gone}/rimuovi", json={}, headers={"X-CSRFToken": token(session, url)}
    )
    assert removed.status_code == 200
    late = editor(socket_client, COORD, swot)
    assert late.join()["ok"]
    assert late.insert(f"entry:{gone}", 0, "ancora ", wait=True)["ok"] is False
    assert stored(database, gone) == "Da togliere"


def test_text_over_the_limit_is_refused_in_italian_and_nothing_changes(
    socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    member = editor(socket_client, MEMBER, swot)
    assert member.join()["limits"][swot["key"]] == 2000
    answer = member.append(swot["key"], " " + "x" * 2000, wait=True)
    assert answer["ok"] is False and answer["error"] == "invalid"
    assert "troppo lungo" in answer["message"] and "2.000 caratteri" in answer["message"]
    assert stored(database, swot["entry"]) == "Rete ampia."
    other = editor(socket_client, COORD_ETS, swot)
    assert other.join()["ok"] and other.text(swot["key"]) == "Rete ampia."
    assert other.append(swot["key"], " Ok.", wait=True)["ok"]
    assert stored(database, swot["entry"]) == "Rete ampia. Ok."


def test_fast_typing_is_kept_whole_in_the_shared_document(
    socket_client: Any, swot: dict[str, Any], database: Db
) -> None:
    typist = editor(socket_client, MEMBER, swot)
    assert typist.join()["ok"]
    for (
        letter
    ) in "abcdefghijklmnopqrstuvwxyz":  # one update per keystroke, sent without waiting, as the page does
        typist.append(swot["key"], letter)
    wait_for(lambda: typist.pending == 0, 10)
    assert typist.refused == []
    expected = "Rete ampia.abcdefghijklmnopqrstuvwxyz"
    assert stored(database, swot["entry"]) == expected
    reader = editor(socket_client, COORD, swot)
    assert reader.join()["ok"] and reader.text(swot["key"]) == expected
