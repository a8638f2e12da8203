"""Property tests of co-writing one long text field through the real save service.

Editors only insert unique marker words (nobody deletes), so an accepted edit that later vanished from the
text would be a lost edit. For any interleaving of saves and refreshes: every marker is in the final text,
or its save was answered as a conflict whose record (kept in the database) holds the author's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

WRITERS = ["coord.pubblico@example.org", "coord.ets@example.org", "membro@example.org", "udp@example.org"]
WORDS = [f"parola{i}" for i in range(10)]
BASE = " ".join(WORDS)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Editor:
    user: Any
    base_rev: int
    base_text: str


def _new_card(tavolo: Any, actor: Any) -> Any:
    from pdz.cards import services
    from pdz.db import unit_of_work

    with unit_of_work():
        card = services.create_card(tavolo, "SCHEDA DI PROVA", None, actor=actor)
        services.save_field(
            card, "context", BASE, base_revision=card.revision_no, client_op_id=None, actor=actor
        )
    return card


def _insert(text: str, position: int, marker: str) -> str:
    words = text.split(" ")
    position = min(position, len(words))
    return " ".join(words[:position] + [marker] + words[position:])


def _save(card: Any, editor: Editor, text: str) -> Any:
    from pdz.cards import services
    from pdz.db import unit_of_work

    with unit_of_work():
        return services.save_field(
            card, "context", text, base_revision=editor.base_rev, client_op_id=None, actor=editor.user
        )


def _current(db: Any, card: Any) -> str:
    from pdz.cards.models import CardValue

    db.session.expire_all()
    return (
        db.session.scalar(
            select(CardValue.value_source).where(CardValue.card_id == card.id, CardValue.key == "context")
        )
        or ""
    )


@SETTINGS
@given(first=st.integers(0, len(WORDS)), second=st.integers(0, len(WORDS)))
def test_disjoint_edits_from_the_same_base_both_survive(
    db: Any, tavolo: Any, user: Any, first: int, second: int
) -> None:
    if first == second:
        second = (second + 1) % (len(WORDS) + 1)
    card = _new_card(tavolo, user(WRITERS[0]))
    one = Editor(user(WRITERS[1]), card.revision_no, BASE)
    two = Editor(user(WRITERS[2]), card.revision_no, BASE)
    assert _save(card, one, _insert(BASE, first, "PRIMO")).status == "saved"
    outcome = _save(card, two, _insert(BASE, second, "SECONDO"))
    assert outcome.status == "merged"
    final = _current(db, card)
    assert "PRIMO" in final and "SECONDO" in final
    assert (
        final.replace("PRIMO ", "").replace(" PRIMO", "").replace("SECONDO ", "").replace(" SECONDO", "")
        == BASE
    )


STEP = st.tuples(st.integers(0, 3), st.sampled_from(["edit", "edit", "refresh"]), st.integers(0, 14))


@SETTINGS
@given(steps=st.lists(STEP, min_size=2, max_size=12))
def test_no_accepted_edit_ever_vanishes(
    db: Any, tavolo: Any, user: Any, steps: list[tuple[int, str, int]]
) -> None:
    from pdz.cards.models import CardConflict, CardRevision

    card = _new_card(tavolo, user(WRITERS[0]))
    editors = [Editor(user(email), card.revision_no, BASE) for email in WRITERS]
    accepted: list[str] = []
    conflicted: list[tuple[str, int]] = []
    for number, (who, action, position) in enumerate(steps):
        editor = editors[who]
        if action == "refresh":
            editor.base_rev, editor.base_text = card.revision_no, _current(db, card)
            continue
        marker = f"M{number}X"
        outcome = _save(card, editor, _insert(editor.base_text, position, marker))
        if outcome.status in {"saved", "merged"}:
            accepted.append(marker)
            editor.base_rev, editor.base_text = outcome.revision, outcome.value
            assert marker in outcome.value
        else:
            assert outcome.status == "conflict", outcome.status
            assert marker in outcome.conflict.mine  # shown to its author with both versions
            conflicted.append((marker, editor.user.id))
    final = _current(db, card)
    for marker in accepted:
        assert marker in final, (marker, final)
    records = list(db.session.scalars(select(CardConflict).where(CardConflict.card_id == card.id)))
    for marker, author_id in conflicted:
        assert any(marker in r.mine and r.author_id == author_id for r in records)
    # The history is a chain: each revision starts from the text the previous one left.
    chain = list(
        db.session.scalars(
            select(CardRevision)
            .where(CardRevision.card_id == card.id, CardRevision.field == "context")
            .order_by(CardRevision.number)
        )
    )
    for earlier, later in zip(chain, chain[1:], strict=False):
        assert earlier.after == later.before
    assert chain[-1].after == final
