"""Helpers shared by the cards tests (imported by module name: tests dirs are not packages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select


class FreshUser:
    """A test client whose requests never reuse the previous request's user or memberships.

    The `app` fixture keeps one application context open for the whole test, so Flask's `g` (where
    Flask-Login and the policy cache the user) is shared by every test client of the test.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            from flask import g

            g.pop("_login_user", None)
            g.pop("pdz_memberships", None)
            return method(*args, **kwargs)

        return call


def as_user(client_as: Any, email: str) -> FreshUser:
    from flask import g

    g.pop("_login_user", None)
    g.pop("pdz_memberships", None)
    return FreshUser(client_as(email))


def card_of(db: Any, key: str) -> Any:
    from pdz.cards.models import Card

    db.session.expire_all()
    found = db.session.scalar(select(Card).where(Card.key == key))
    assert found is not None
    return found


def value_of(db: Any, card: Any, key: str) -> str:
    from pdz.cards.models import CardValue

    db.session.expire_all()
    found = db.session.scalar(select(CardValue).where(CardValue.card_id == card.id, CardValue.key == key))
    return found.value_source if found else ""
