"""The three-way merge of a card row's text (`pdz.merge.merge3`, used when two people save the same row
attribute from the same base revision), pinned by cases that tell the rule apart from its plausible variants.

The rule, from the module's contract and docs/meetings.md ("concurrent edits merge, overlapping ones answer
with both versions"): texts are compared word by word, whitespace and punctuation being tokens of their own;
edits to different parts of the base merge; edits that touch the same part of the base (two insertions at
the same point, an insertion at the start of a replacement, ranges that overlap) are a conflict reported with
the base, mine and theirs of the whole region, never resolved silently: the result keeps theirs.
Every expected value below is written by hand from that rule, never computed with the module.
"""

from __future__ import annotations

from typing import Any

import pytest

from pdz.merge import Conflict, merge3, tokens


def test_words_whitespace_and_punctuation_are_tokens_of_their_own() -> None:
    assert tokens("Ciao,  mondo!") == ["Ciao", ",", "  ", "mondo", "!"]
    assert tokens("l'àmbito 2026") == ["l", "'", "àmbito", " ", "2026"]
    assert tokens("") == []
    assert tokens(None) == []  # type: ignore[arg-type] - a NULL column is an empty text


@pytest.mark.parametrize(
    ("base", "mine", "theirs", "expected"),
    [
        ("a b c", "a b c", "a X c", "a X c"),  # I changed nothing: theirs
        ("a b c", "a X c", "a X c", "a X c"),  # the same change on both sides: once
        ("a b c", "a X c", "a b c", "a X c"),  # they changed nothing: mine
    ],
)
def test_when_one_side_did_nothing_the_other_side_wins_whole(
    base: str, mine: str, theirs: str, expected: str
) -> None:
    result = merge3(base, mine, theirs)
    assert (result.text, result.conflicts, result.clean) == (expected, [], True)


@pytest.mark.parametrize(
    ("base", "mine", "theirs", "expected"),
    [
        # replacements of different words, far apart and next to each other (adjacent ranges do not overlap)
        ("uno due tre quattro", "UNO due tre quattro", "uno due tre QUATTRO", "UNO due tre QUATTRO"),
        ("uno due", "UNO due", "uno DUE", "UNO DUE"),
        # a deletion and an insertion elsewhere
        ("uno due tre", "uno tre", "uno due tre quattro", "uno tre quattro"),
        # an insertion right after the other side's replacement (at the end of its range, not inside it)
        ("uno due tre", "uno due più tre", "uno DUE tre", "uno DUE più tre"),
        # an insertion right before the other side's replacement, at the end of the previous word
        ("uno due", "uno, due", "uno DUE", "uno, DUE"),
        # an insertion exactly where the other side's replaced word ends (touching is not overlapping), both ways
        ("uno due", "uno due!", "uno DUE", "uno DUE!"),
        ("uno due", "uno DUE", "uno due!", "uno DUE!"),
        ("uno due", "UNO due", "uno, due", "UNO, due"),
        # the same edit made by both, alongside another one of mine: applied once
        ("a b c d", "A b c D", "A b c d", "A b c D"),
        # edits at both ends
        ("inizio mezzo fine", "Inizio mezzo fine.", "inizio MEZZO fine", "Inizio MEZZO fine."),
    ],
)
def test_edits_to_different_parts_merge(base: str, mine: str, theirs: str, expected: str) -> None:
    result = merge3(base, mine, theirs)
    assert result.conflicts == []
    assert result.clean is True
    assert result.text == expected


def test_the_same_word_changed_differently_is_a_conflict_and_theirs_is_kept() -> None:
    result = merge3("uno due tre", "uno DUE tre", "uno 2 tre")
    assert result.clean is False
    assert result.text == "uno 2 tre"
    assert result.conflicts == [Conflict(base="due", mine="DUE", theirs="2")]


def test_two_insertions_at_the_same_point_are_a_conflict() -> None:
    result = merge3("uno tre", "uno due tre", "uno DUE tre")
    assert result.text == "uno DUE tre"
    # the region is empty in the base: each side's version is its own insertion
    assert result.conflicts == [Conflict(base="", mine="due ", theirs="DUE ")]


def test_an_insertion_at_the_start_of_the_other_sides_replacement_is_a_conflict() -> None:
    result = merge3("uno due", "uno nuovo due", "uno DUE")
    assert result.text == "uno DUE"
    assert result.conflicts == [Conflict(base="due", mine="nuovo due", theirs="DUE")]


def test_an_insertion_inside_the_other_sides_replacement_is_a_conflict() -> None:
    result = merge3("a b c d", "a b, c d", "a X d")
    assert result.text == "a X d"
    assert result.conflicts == [Conflict(base="b c", mine="b, c", theirs="X")]


def test_overlapping_replacements_report_the_whole_region() -> None:
    # mine replaces "b c" by one word, theirs "c d": the conflict spans "b c d" with each side's version of it
    result = merge3("a b c d e", "a X d e", "a b Y e")
    assert result.text == "a b Y e"
    assert result.conflicts == [Conflict(base="b c d", mine="X d", theirs="b Y")]


def test_a_deletion_against_an_edit_of_the_deleted_word_is_a_conflict() -> None:
    result = merge3("uno due tre", "uno tre", "uno DUE tre")
    assert result.text == "uno DUE tre"
    assert result.conflicts == [Conflict(base="due ", mine="", theirs="DUE ")]


def test_every_clash_is_reported() -> None:
    result = merge3("a b c d e", "A b C d e", "1 b 3 d e")
    assert result.text == "1 b 3 d e"
    assert result.conflicts == [
        Conflict(base="a", mine="A", theirs="1"),
        Conflict(base="c", mine="C", theirs="3"),
    ]


def test_long_texts_merge_word_by_word() -> None:
    """Long texts repeat spaces and common words (difflib's automatic junk heuristic would treat them as
    junk past 200 tokens and match coarsely): far-apart edits still merge."""
    words = [f"parola{i % 7}" for i in range(300)]
    base = " ".join(words)
    mine_words, their_words = list(words), list(words)
    mine_words[5] = "MIA"
    their_words[290] = "LORO"
    expected = list(words)
    expected[5], expected[290] = "MIA", "LORO"
    result = merge3(base, " ".join(mine_words), " ".join(their_words))
    assert result.conflicts == []
    assert result.text == " ".join(expected)


# --- through HTTP: a card row's text changed by two people from the same base revision ------------------


def _objective_rows(db: Any, card: Any) -> list[Any]:
    from sqlalchemy import select

    from pdz.cards.models import CardObjective

    return list(
        db.session.scalars(
            select(CardObjective).where(CardObjective.card_id == card.id).order_by(CardObjective.position)
        )
    )


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The merge is text arithmetic; the HTTP case only shows it is the one the row save uses."""
    return str(request.param)


def test_two_people_editing_different_words_of_one_row_both_keep_their_words(client_as: Any, db: Any) -> None:
    from tests.cards.cards_helpers import as_user, card_of

    card = card_of(db, "A")
    base = card.revision_no
    row = _objective_rows(db, card)[0]
    original = row.text
    assert len(tokens(original)) >= 3, original
    one, two = as_user(client_as, "coord.pubblico@example.org"), as_user(client_as, "membro@example.org")
    url = f"/schede/{card.id}/righe/obiettivi/{row.id}"
    assert (
        one.post(url, json={"values": {"text": "Nuovo " + original}, "base_revision": base}).status_code
        == 200
    )
    answer = two.post(url, json={"values": {"text": original + " (rivisto)"}, "base_revision": base})
    assert answer.status_code == 200, answer.json
    db.session.expire_all()
    assert _objective_rows(db, card)[0].text == "Nuovo " + original + " (rivisto)"
