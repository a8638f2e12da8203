"""The target registry: what a thread can be attached to. Each domain registers its kinds (cards, meetings
and evaluation in their `comment_targets.py`, imported by their views).

A thread is (target_kind, target_id, field_key). Reading it means `tavolo.view` on `body_of(target)`;
writing means `comment.create` on that body. Registering a kind takes one call, e.g. for cards:

    targets.register("card", load=lambda i: db.session.get(Card, i), body_of=lambda c: c.tavolo,
                     url_of=lambda c: url_for("cards.detail", card_id=c.id), label=lambda c: c.title,
                     fields={"obiettivi", "azioni", ...})
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import url_for

from ..extensions import db
from ..tavoli.models import MANDATE_PARTS, Body, Mandate


@dataclass(frozen=True)
class Target:
    kind: str
    load: Callable[[int], Any]  # id -> object or None
    body_of: Callable[[Any], Any]  # object -> tavoli.models.Body
    url_of: Callable[[Any], str]
    label: Callable[[Any], str]
    fields: Collection[str] | None = None  # allowed field keys; None: no field threads


TARGETS: dict[str, Target] = {}


def register(
    kind: str,
    load: Callable[[int], Any],
    body_of: Callable[[Any], Any],
    url_of: Callable[[Any], str],
    label: Callable[[Any], str],
    fields: Collection[str] | None = None,
) -> Target:
    TARGETS[kind] = Target(kind, load, body_of, url_of, label, fields)
    return TARGETS[kind]


def get(kind: str) -> Target | None:
    return TARGETS.get(kind)


def _load_body(ident: int) -> Any:
    return db.session.get(Body, ident)


register(
    "tavolo",
    load=_load_body,
    body_of=lambda body: body,
    url_of=lambda body: url_for("comments.discussion", body_id=body.id),
    label=lambda body: body.display_name,
)


def _load_mandate(ident: int) -> Any:
    return db.session.get(Mandate, ident)


# Field threads beside each part of a tavolo's mandate (finalità, attività, tempi...), on the discussion page.
register(
    "mandate",
    load=_load_mandate,
    body_of=lambda mandate: mandate.body,
    url_of=lambda mandate: url_for("comments.discussion", body_id=mandate.body_id),  # + "#commento-<id>"
    label=lambda mandate: f"Mandato – {mandate.body.display_name}",
    fields=frozenset(MANDATE_PARTS),
)
