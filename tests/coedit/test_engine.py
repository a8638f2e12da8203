"""The co-writing engine on a card, through real sockets: what it refuses, what it stores, how it groups
revisions, restores live and rebuilds from the database."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Text
from sqlalchemy import create_engine, text

from pdz.coedit.engine import UPDATE, encode_sync, wire
from pdz.coedit.pyclient import Editor
from pdz.coedit.sockets import encode_awareness


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class Db:
    def __init__(self, server: Any) -> None:
        self.engine = create_engine(server.app.config["SQLALCHEMY_DATABASE_URI"])

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def one(self, sql: str, **params: Any) -> Any:
        rows = self.rows(sql, **params)
        return rows[0][0] if rows else None

    def value(self, card_id: int, key: str) -> str:
        return (
            self.one("SELECT value_source FROM card_values WHERE card_id = :c AND key = :k", c=card_id, k=key)
            or ""
        )

    def doc_id(self, card_id: int) -> int:
        return int(self.one("SELECT id FROM coedit_docs WHERE kind = 'card' AND ref_id = :c", c=card_id))

    def updates(self, card_id: int) -> int:
        return int(self.one("SELECT count(*) FROM coedit_updates WHERE doc_id = :d", d=self.doc_id(card_id)))

    def revisions(self, card_id: int, key: str) -> list[Any]:
        return self.rows(
            "SELECT number, author_id, kind, after FROM card_revisions WHERE card_id = :c AND field = :k ORDER BY number",
            c=card_id,
            k=key,
        )


@pytest.fixture
def store(live_server: Any) -> Any:
    database = Db(live_server)
    yield database
    database.engine.dispose()


@pytest.fixture
def card(store: Db) -> dict[str, Any]:
    card_id = int(store.one("SELECT id FROM cards WHERE key = 'A'"))
    return {"id": card_id, "doc": f"card:{card_id}"}


@pytest.fixture
def editor(socket_client: Any, card: dict[str, Any]) -> Callable[[str], Editor]:
    def make(email: str = "coord.ets@example.org") -> Editor:
        ed = Editor(socket_client(email), card["doc"])
        joined = ed.join()
        assert joined["ok"] is True, joined
        return ed

    return make


def test_update_outside_the_schema_is_refused_and_changes_nothing(
    store: Db, card: dict[str, Any], editor: Callable[..., Editor]
) -> None:
    one, other = editor(), editor("membro@example.org")
    context, count = store.value(card["id"], "context"), store.updates(card["id"])
    answer = one.insert("non_esiste", 0, "intruso", wait=True)
    assert answer["ok"] is False and answer["error"] == "invalid", answer
    assert store.updates(card["id"]) == count
    assert store.value(card["id"], "non_esiste") == ""
    # One update touching a declared text and an undeclared one is refused as a whole.
    with one.lock:
        state = one.doc.get_state()
        one.doc.get("context", type=Text).insert(0, "MISTO ")
        one.doc.get("altro_campo", type=Text).insert(0, "x")
        mixed = one.doc.get_update(state)
    assert one.send(mixed, wait=True)["ok"] is False
    assert store.updates(card["id"]) == count and store.value(card["id"], "context") == context
    fresh = editor("coord.pubblico@example.org")
    assert "non_esiste" not in fresh.texts() and "altro_campo" not in fresh.texts()
    assert fresh.text("context") == context and other.text("context") == context


def test_over_limit_update_is_refused_in_italian(
    store: Db, card: dict[str, Any], editor: Callable[..., Editor]
) -> None:
    one = editor()
    title, context = store.value(card["id"], "title"), store.value(card["id"], "context")
    answer = one.append("title", "X" * 301, wait=True)
    assert answer["ok"] is False and "troppo lungo" in answer["message"] and "300" in answer["message"], (
        answer
    )
    answer = one.append("context", "a" * 20_001, wait=True)
    assert answer["ok"] is False and "troppo lungo" in answer["message"] and "20.000" in answer["message"]
    assert store.value(card["id"], "title") == title and store.value(card["id"], "context") == context
    assert editor("membro@example.org").text("title") == title


def test_garbage_gets_a_refusal_never_an_exception(
    store: Db, card: dict[str, Any], editor: Callable[..., Editor], socket_client: Any
) -> None:
    one = editor()
    sio = one.sio
    for doc in ("xyz:1", "card:abc", "card:99999999999999999999", "card:999999", "", None, 12):
        answer = sio.call("coedit.join", {"doc": doc, "msg": wire(encode_sync(0, b"\x00"))}, timeout=5)
        assert answer["ok"] is False, (doc, answer)
    for payload in ("testo", 42, [1, 2], {"msg": b"\x00\x00"}, {"doc": card["doc"]}):
        assert sio.call("coedit.join", payload, timeout=5)["ok"] is False, payload
    count, context = store.updates(card["id"]), store.value(card["id"], "context")
    bad_updates: list[Any] = [
        "testo",
        42,
        [1, 2],
        {"doc": card["doc"]},  # no message
        {"doc": card["doc"], "msg": "non binario"},
        {"doc": card["doc"], "msg": b"\xff\xff\xff"},  # not a sync message
        {"doc": card["doc"], "msg": wire(encode_sync(UPDATE, b"\xff\xfe\xfd\xfc\x00\x01"))},  # not an update
        {"doc": card["doc"], "msg": wire(encode_sync(UPDATE, b""))},
        {"doc": card["doc"], "msg": wire(encode_sync(0, b"\x00"))},  # step 1 where an update is expected
        {"doc": "xyz:1", "msg": wire(encode_sync(UPDATE, b"\x00\x00"))},
        {"doc": "card:99999999999999999999", "msg": wire(encode_sync(UPDATE, b"\x00\x00"))},
    ]
    for payload in bad_updates:
        answer = sio.call("coedit.update", payload, timeout=5)
        assert isinstance(answer, dict) and answer["ok"] is False, (payload, answer)
    for payload in (
        "x",
        {"doc": card["doc"], "msg": b"\xff"},
        {"doc": card["doc"], "msg": wire(encode_awareness([]))[:0]},
    ):
        assert sio.call("coedit.awareness", payload, timeout=5)["ok"] is False, payload
    assert store.updates(card["id"]) == count and store.value(card["id"], "context") == context
    # The connection and the document still work.
    assert one.append("context", " ancora vivo", wait=True)["ok"] is True
    assert store.value(card["id"], "context") == context + " ancora vivo"


def test_a_resent_update_is_stored_once(
    store: Db, card: dict[str, Any], editor: Callable[..., Editor]
) -> None:
    one = editor()
    count = store.updates(card["id"])
    with one.lock:
        state = one.doc.get_state()
        one.doc.get("context", type=Text).insert(0, "UNA VOLTA ")
        update = one.doc.get_update(state)
    first = one.send(update, wait=True)
    again = one.send(update, wait=True)
    assert first["ok"] is True and again["ok"] is True
    assert store.updates(card["id"]) == count + 1
    assert store.value(card["id"], "context").count("UNA VOLTA ") == 1
    assert store.one("SELECT seq FROM coedit_docs WHERE id = :d", d=store.doc_id(card["id"])) == first["seq"]


def test_acknowledged_text_is_in_card_values_and_revisions_are_grouped(
    store: Db, card: dict[str, Any], editor: Callable[..., Editor]
) -> None:
    ets, member = editor("coord.ets@example.org"), editor("membro@example.org")
    before = store.revisions(card["id"], "results")
    everything = store.one("SELECT count(*) FROM card_revisions WHERE card_id = :c", c=card["id"])
    original = store.value(card["id"], "results")
    assert ets.append("results", " Primo.", wait=True)["ok"] is True
    # The first edit of a freshly opened document records a revision of that field only.
    fields = store.rows(
        "SELECT field, before FROM card_revisions WHERE card_id = :c AND number > "
        "(SELECT max(number) FROM card_revisions WHERE card_id = :c) - :n",
        c=card["id"],
        n=store.one("SELECT count(*) FROM card_revisions WHERE card_id = :c", c=card["id"]) - everything,
    )
    assert [(f, b) for f, b in fields] == [("results", original)], fields
    assert store.value(card["id"], "results") == original + " Primo."  # committed before the ack
    assert ets.append("results", " Secondo.", wait=True)["ok"] is True
    after_one = store.revisions(card["id"], "results")
    assert len(after_one) == len(before) + 1  # two quick edits by one author: one revision
    ets_id = store.one("SELECT id FROM users WHERE email = 'coord.ets@example.org'")
    assert after_one[-1][1] == ets_id and after_one[-1][3] == original + " Primo. Secondo."
    wait_for(lambda: member.text("results") == original + " Primo. Secondo.")
    assert member.append("results", " Terzo.", wait=True)["ok"] is True
    after_two = store.revisions(card["id"], "results")
    assert len(after_two) == len(before) + 2  # another author: a new revision
    assert after_two[-1][1] != ets_id and after_two[-1][3] == original + " Primo. Secondo. Terzo."
    assert store.value(card["id"], "results") == original + " Primo. Secondo. Terzo."


def test_restore_over_http_reaches_an_open_editor_live(
    live_server: Any, store: Db, card: dict[str, Any], editor: Callable[..., Editor]
) -> None:
    from tests.conftest import http_session

    watcher = editor("membro@example.org")
    original = store.value(card["id"], "context")
    start = int(store.one("SELECT revision_no FROM cards WHERE id = :c", c=card["id"]))
    assert watcher.append("context", " DA TOGLIERE", wait=True)["ok"] is True
    assert store.value(card["id"], "context") == original + " DA TOGLIERE"
    session = http_session(live_server, "coord.pubblico@example.org")
    page = session.get(f"{live_server.url}/schede/{card['id']}")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert token
    restored = session.post(
        f"{live_server.url}/schede/{card['id']}/ripristina",
        json={"number": start},
        headers={"X-CSRFToken": token.group(1), "Accept": "application/json"},
        timeout=10,
    )
    assert restored.status_code == 200, restored.text
    wait_for(lambda: watcher.text("context") == original)
    assert store.value(card["id"], "context") == original
    last = store.revisions(card["id"], "context")[-1]
    assert last[2] == "ripristino" and last[3] == original


def test_the_database_rebuilds_the_same_document(
    live_server: Any, store: Db, card: dict[str, Any], editor: Callable[..., Editor]
) -> None:
    from pdz.coedit import engine
    from pdz.extensions import db

    one, two = editor("coord.ets@example.org"), editor("membro@example.org")
    for n in range(5):
        assert one.insert("context", 0, f"[{n}]", wait=True)["ok"] is True
        assert two.append("needs", f" ({n})", wait=True)["ok"] is True
    assert one.delete("context", 0, 3, wait=True)["ok"] is True
    wait_for(
        lambda: (
            one.texts().get("needs") == two.texts().get("needs")
            and one.text("context") == two.text("context")
        )
    )
    doc_id = store.doc_id(card["id"])
    assert store.one("SELECT seq FROM coedit_docs WHERE id = :d", d=doc_id) == store.updates(card["id"])
    seqs = [
        row[0]
        for row in store.rows("SELECT seq FROM coedit_updates WHERE doc_id = :d ORDER BY seq", d=doc_id)
    ]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gapless
    # A fresh process view: forget the live document and rebuild it from the stored snapshot and updates.
    app = live_server.app
    with app.app_context():
        app.extensions["pdz_coedit"].pop(card["doc"], None)
        rebuilt = engine.current_texts(card["doc"])
        db.session.remove()
    assert rebuilt["context"] == one.text("context") == store.value(card["id"], "context")
    assert rebuilt["needs"] == two.text("needs") == store.value(card["id"], "needs")
    late = editor("coord.pubblico@example.org")
    assert late.text("context") == one.text("context") and late.text("needs") == two.text("needs")


def test_a_join_while_a_commit_is_being_stored_does_not_rewind_the_sequence(
    live_server: Any, store: Db, card: dict[str, Any], editor: Callable[..., Editor], socket_client: Any
) -> None:
    """Found under load (issue #19): someone opening the document while the previous keystrokes were being
    stored read the sequence number the database had before that commit and wound the document's counter
    back, so the committed row kept a sequence number the document no longer knew and every later save
    collided with it ("Salvataggio non riuscito" forever). The insert is held here until the join is done."""
    import threading

    from sqlalchemy import event

    from pdz.extensions import db

    with live_server.app.app_context():
        engine = db.engine
    holding, joined = threading.Event(), threading.Event()

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO COEDIT_UPDATES") and not joined.is_set():
            holding.set()
            joined.wait(30)

    one = editor()
    late = Editor(socket_client("membro@example.org"), card["doc"])  # signed in before the database is held
    event.listen(engine, "before_cursor_execute", hold)
    try:
        one.append("context", " PRIMA")  # its commit stops at the insert
        assert holding.wait(30)
        assert late.join()["ok"] is True  # the join reads the document meanwhile
    finally:
        joined.set()  # the listener stays (removing it while another thread runs it would break that thread)
    wait_for(lambda: one.pending == 0)
    assert not one.refused, one.refused
    for word in (" DOPO", " ANCORA"):
        answer = one.append("context", word, wait=True)
        assert answer["ok"] is True, answer
    doc = store.doc_id(card["id"])
    assert store.one("SELECT seq FROM coedit_docs WHERE id = :d", d=doc) == store.one(
        "SELECT max(seq) FROM coedit_updates WHERE doc_id = :d", d=doc
    )
    assert store.value(card["id"], "context").endswith(" PRIMA DOPO ANCORA")
    wait_for(lambda: late.text("context").endswith(" PRIMA DOPO ANCORA"))
