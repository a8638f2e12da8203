"""Hostile card saves (issue #13 point 1): a clear Italian 4xx, no revision recorded."""

from __future__ import annotations

from typing import Any

import pytest
from cards_helpers import as_user, card_of
from sqlalchemy import func, select


def revisions(db: Any, card: Any) -> int:
    from pdz.cards.models import CardRevision

    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(CardRevision.card_id == card.id)) or 0


@pytest.mark.parametrize(
    "extra",
    [
        {"client_op_id": 12345678},
        {"client_op_id": ["abcdefgh"]},
        {"value": {"si": 1}},
        {"value": [["si"]]},
        {"value": True},
        {"body_id": 2**63},
        {"body_id": 1e999},
        {"body_id": "uno"},
    ],
    ids=repr,
)
def test_field_save_with_wrong_shapes_is_refused(client_as: Any, db: Any, extra: Any) -> None:
    card = card_of(db, "A")
    before = revisions(db, card)
    client = as_user(client_as, "membro@example.org")
    payload = {"field": "premial", "value": "si", "base_revision": card.revision_no, **extra}
    response = client.post(f"/schede/{card.id}/campi", json=payload)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.json["ok"] is False and response.json["error"]
    assert revisions(db, card) == before


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("obiettivi", {"text": ["Obiettivo"]}),
        ("obiettivi", {"text": "Obiettivo\r\nsecondo"}),
        ("obiettivi", {"text": "Obiettivo \x07"}),
        ("risorse", {"description": "Voce", "amount_cents": 2**40}),
        ("risorse", {"description": "Voce", "amount_cents": "99.999.999,00"}),
        ("risorse", {"description": "Voce", "amount_cents": "1,²"}),
        ("risorse", {"description": "Voce", "amount_cents": "9" * 5000}),
        ("risorse", {"description": "Voce", "amount_cents": ["1"]}),
    ],
    ids=repr,
)
def test_row_with_wrong_values_is_refused(client_as: Any, db: Any, kind: str, values: Any) -> None:
    card = card_of(db, "A")
    before = revisions(db, card)
    client = as_user(client_as, "coord.pubblico@example.org")
    response = client.post(f"/schede/{card.id}/righe/{kind}", json={"values": values})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["error"]
    assert revisions(db, card) == before


def test_history_compare_and_restore_refuse_huge_numbers(client_as: Any, db: Any) -> None:
    card = card_of(db, "A")
    client = as_user(client_as, "coord.pubblico@example.org")
    for query in ("da=99999999999999999999", "a=2147483648", "da=-1"):
        assert client.get(f"/schede/{card.id}/confronto?{query}").status_code == 422, query
    before = revisions(db, card)
    for number in (2**63, "99999999999999999999", 1e999):
        response = client.post(f"/schede/{card.id}/ripristina", json={"number": number})
        assert 400 <= response.status_code < 500, number
    assert revisions(db, card) == before
