"""Property test of the co-writing engine with replacements (issue #19 point 4), through real sockets.

Three authors interleave inserts, deletes and replacements (a range deleted and a new token typed in its
place, sent as one update) in one card field; some go offline, keep editing their local copy and join again.
Whatever the interleaving, every client and `card_values.value_source` end with the same text, and every
accepted operation's effect is there unless a later operation explicitly superseded it:
- an inserted token (typed or replacing) is in the text exactly once, unless a delete or replacement made
  by someone who could see it covered part of it;
- a token that a delete or replacement covered, even partly, is gone: a deleted character never comes back.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Text
from tests.cards.test_cards_merge_property import FIELD, Person, boundary, sockets, spans, utf8, wait_for

__all__ = ["sockets"]  # the fixture, shared with the insert-and-delete property test

COUNTER = itertools.count()
# (who, action, position, length)
STEP = st.tuples(
    st.integers(0, 2),
    st.sampled_from(["insert", "insert", "replace", "replace", "delete", "offline", "online"]),
    st.integers(0, 400),
    st.integers(1, 12),
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=16))
def test_inserts_deletes_and_replacements_by_three_authors_converge(
    sockets: dict[str, Any], steps: list[tuple[int, str, int, int]]
) -> None:
    from sqlalchemy import text

    key = f"card:{sockets['card_id']}"
    crowd = [Person(sio, key) for sio in sockets["clients"]]
    example = next(COUNTER)
    inserted: list[str] = []
    covered: set[str] = set()
    for number, (who, action, position, length) in enumerate(steps):
        person = crowd[who]
        ed = person.editor
        if action == "offline" and person.online:
            wait_for(lambda ed=ed: ed.pending == 0)
            ed.leave()
            person.online = False
            continue
        if action == "online" and not person.online:
            assert ed.join()["ok"] is True
            person.online = True
            continue
        if action not in ("insert", "delete", "replace"):
            continue
        current = ed.text(FIELD)
        token = f"<r{example}t{number}>"
        if action == "insert":
            start = end = boundary(current, min(position, len(current)), inserted)
        else:
            if not current:
                continue
            start = min(position, len(current) - 1)
            end = min(start + length, len(current))
            for seen in inserted:  # every token this author sees and the range touches is superseded
                if any(set(span) & set(range(start, end)) for span in spans(current, seen)):
                    covered.add(seen)
        a, b = utf8(current, start), utf8(current, end)

        def change(t: Text, a: int = a, b: int = b, action: str = action, token: str = token) -> None:
            if b > a:
                del t[a:b]
            if action != "delete":
                t.insert(a, token)

        if action != "delete":
            inserted.append(token)
        if person.online:
            ed._edit(FIELD, change, wait=number % 2 == 0)  # one update: a replacement is atomic
        else:
            person.local(change)
    for person in crowd:
        if not person.online:
            assert person.editor.join()["ok"] is True
            person.online = True
    for person in crowd:
        wait_for(lambda p=person: p.editor.pending == 0)
        assert not person.editor.refused, person.editor.refused
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
        expected = 0 if token in covered else 1
        assert final.count(token) == expected, (token, "superseded" if expected == 0 else "accepted", final)
    for person in crowd:
        person.editor.leave()
