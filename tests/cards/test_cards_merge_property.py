"""Property test of co-writing one card field through the engine, with real sockets.

Two or three editors interleave inserts of unique tokens and deletes of ranges; some go "offline" (they
leave the document and keep editing their local copy) and later `join()` again to resync. Whatever the
interleaving: every client and `card_values.value_source` end with the same text, and every inserted token
is in it unless a delete (made by someone who could see it) covered part of it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Text
from sqlalchemy import create_engine, text

from pdz.coedit.pyclient import Editor

EMAILS = ["coord.pubblico@example.org", "coord.ets@example.org", "membro@example.org"]
FIELD = "needs"
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COUNTER = itertools.count()

# (who, action, position, length): action is insert | delete | offline | online
STEP = st.tuples(
    st.integers(0, 2),
    st.sampled_from(["insert", "insert", "insert", "delete", "offline", "online"]),
    st.integers(0, 400),
    st.integers(1, 12),
)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class Person:
    def __init__(self, sio: Any, key: str) -> None:
        self.editor = Editor(sio, key)
        self.online = True
        assert self.editor.join()["ok"] is True

    def local(self, change: Callable[[Text], None]) -> None:
        """An edit made while offline: kept in the local copy, sent by the next join."""
        with self.editor.lock:
            change(self.editor.doc.get(FIELD, type=Text))


def spans(value: str, token: str) -> list[range]:
    found, start = [], value.find(token)
    while start >= 0:
        found.append(range(start, start + len(token)))
        start = value.find(token, start + 1)
    return found


def utf8(value: str, index: int) -> int:
    """pycrdt's Text counts positions in UTF-8 bytes (the card texts are Italian: à, è, ù...)."""
    return len(value[:index].encode("utf-8"))


def boundary(value: str, index: int, tokens: list[str]) -> int:
    """`index`, moved back to the start of a token it falls inside (a token is never split by an insert)."""
    for token in tokens:
        for span in spans(value, token):
            if span.start < index < span.stop:
                return span.start
    return index


@pytest.fixture
def sockets(live_server: Any, socket_client: Any) -> dict[str, Any]:
    engine = create_engine(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        card_id = connection.execute(text("SELECT id FROM cards WHERE key = 'A'")).scalar_one()
    return {"clients": [socket_client(email) for email in EMAILS], "card_id": card_id, "engine": engine}


@SETTINGS
@given(people=st.integers(2, 3), steps=st.lists(STEP, min_size=1, max_size=14))
def test_random_interleavings_converge_and_keep_every_token(
    sockets: dict[str, Any], people: int, steps: list[tuple[int, str, int, int]]
) -> None:
    key = f"card:{sockets['card_id']}"
    crowd = [Person(sio, key) for sio in sockets["clients"][:people]]
    example = next(COUNTER)
    inserted: list[str] = []
    deleted: set[str] = set()
    for number, (who, action, position, length) in enumerate(steps):
        person = crowd[who % people]
        ed = person.editor
        if action == "offline" and person.online:
            wait_for(lambda ed=ed: ed.pending == 0)
            ed.leave()  # no more live updates: edits stay local until the next join
            person.online = False
        elif action == "online" and not person.online:
            assert ed.join()["ok"] is True
            person.online = True
        elif action == "insert":
            token = f"<e{example}t{number}>"
            current = ed.text(FIELD)
            index = boundary(current, min(position, len(current)), inserted)
            at = utf8(current, index)
            if person.online:  # the Editor takes characters, pycrdt itself UTF-8 bytes
                ed.insert(FIELD, index, token, wait=number % 2 == 0)  # some acked at once, some async
            else:
                person.local(lambda t, i=at, s=token: t.insert(i, s))
            inserted.append(token)
        elif action == "delete":
            current = ed.text(FIELD)
            if not current:
                continue
            start = min(position, len(current) - 1)
            end = min(start + length, len(current))
            hit = range(start, end)
            for token in inserted:  # a token this person sees, even partly covered, may be gone
                if any(set(span) & set(hit) for span in spans(current, token)):
                    deleted.add(token)
            a, b = utf8(current, start), utf8(current, end)
            if person.online:
                ed.delete(FIELD, start, end, wait=number % 2 == 0)
            else:
                person.local(lambda t, a=a, b=b: t.__delitem__(slice(a, b)))
    for person in crowd:
        if not person.online:
            assert person.editor.join()["ok"] is True
            person.online = True
    for person in crowd:
        wait_for(lambda p=person: p.editor.pending == 0)
        assert not person.editor.refused, person.editor.refused
    # Everyone and the database converge on one text.
    texts = lambda: {p.editor.text(FIELD) for p in crowd}  # noqa: E731
    wait_for(lambda: len(texts()) == 1)
    final = texts().pop()
    with sockets["engine"].connect() as connection:
        stored = connection.execute(
            text("SELECT value_source FROM card_values WHERE card_id = :c AND key = :k"),
            {"c": sockets["card_id"], "k": FIELD},
        ).scalar()
    assert (stored or "") == final
    for token in inserted:
        if token not in deleted:
            assert final.count(token) == 1, (token, final)
    for person in crowd:
        person.editor.leave()
