"""A card's status has one writer, the approval chain (issue #18 point 2): no editor marks a card as agreed
("Approvata") by hand, and restoring an old version never rolls the status back."""

from __future__ import annotations

from typing import Any

from cards_helpers import as_user, card_of
from sqlalchemy import text

COORD = "coord.pubblico@example.org"


def _status(db: Any, card_id: int) -> str:
    db.session.rollback()
    return str(db.session.execute(text("SELECT status FROM cards WHERE id = :c"), {"c": card_id}).scalar())


def _draft_card_of_coord(db: Any) -> int:
    """A draft card of the coordinator's tavolo that has never been submitted."""
    return int(
        db.session.execute(
            text(
                "SELECT c.id FROM cards c JOIN memberships m ON m.body_id = c.body_id "
                "JOIN users u ON u.id = m.user_id WHERE u.email = :e AND c.status = 'bozza' "
                "AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.document_id = c.id "
                "AND s.document_kind = 'scheda') ORDER BY c.id LIMIT 1"
            ),
            {"e": COORD},
        ).scalar_one()
    )


def test_an_editor_cannot_mark_a_card_agreed_or_in_review(db: Any, client_as: Any) -> None:
    card_id = _draft_card_of_coord(db)
    coord = as_user(client_as, COORD)
    for status in ("condivisa", "in_revisione"):
        answer = coord.post(f"/schede/{card_id}/stato", data={"status": status})
        assert answer.status_code == 422
        assert "segue il percorso di approvazione" in answer.get_data(as_text=True)
        assert _status(db, card_id) == "bozza"
    assert coord.post(f"/schede/{card_id}/stato", data={"status": "bozza"}).status_code == 303  # no change
    assert _status(db, card_id) == "bozza"


def test_restoring_a_version_keeps_the_status_the_chain_gave(db: Any, client_as: Any) -> None:
    """History recorded before this rule may hold status changes: a restore across them leaves the status."""
    card = card_of(db, "A")
    start = card.revision_no
    db.session.execute(
        text(
            "INSERT INTO card_revisions (card_id, number, field, before, after, kind, author_id, at, "
            "client_op_id) VALUES (:c, :n, 'status', 'bozza', 'condivisa', 'modifica', NULL, "
            "CURRENT_TIMESTAMP, 'old-status-change')"
        ),
        {"c": card.id, "n": start + 1},
    )
    db.session.execute(
        text("UPDATE cards SET status = 'condivisa', revision_no = :n WHERE id = :c"),
        {"c": card.id, "n": start + 1},
    )
    db.session.commit()
    restored = as_user(client_as, COORD).post(f"/schede/{card.id}/ripristina", data={"number": start})
    assert restored.status_code == 303
    assert _status(db, card.id) == "condivisa"
