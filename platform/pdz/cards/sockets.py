"""Presence on a card: who is editing which field right now. Saves go through HTTP; this is awareness only."""

from __future__ import annotations

import threading
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import emit

from .. import policy
from ..extensions import db, socketio
from ..sockets import room_rule, socket_login_required
from .models import Card

# sid -> (card_id, field, user_id, name): what each connection is editing, to clear it on disconnect.
_EDITING: dict[str, tuple[int, str, int, str]] = {}
_LOCK = threading.Lock()


@room_rule("card")
def _card_room(user: Any, ident: int) -> bool:
    card = db.session.get(Card, ident)
    return card is not None and policy.can(user, "card.view", card)


def _card(data: Any) -> Card | None:
    try:
        card_id = int((data or {}).get("card_id", 0))
    except (TypeError, ValueError):
        return None
    return db.session.get(Card, card_id)


def editors(card_id: int) -> list[dict[str, Any]]:
    with _LOCK:
        return [
            {"field": field, "user_id": user_id, "name": name}
            for (cid, field, user_id, name) in _EDITING.values()
            if cid == card_id
        ]


@socketio.on("field.focus")
@socket_login_required
def on_focus(data: Any) -> dict[str, Any]:
    card = _card(data)
    field = str((data or {}).get("field", ""))[:60]
    policy.forget_memberships()
    if card is None or not field or not policy.can(current_user, "card.edit", card):
        return {"ok": False, "error": "forbidden"}
    with _LOCK:
        previous = _EDITING.get(request.sid)  # type: ignore[attr-defined]
        _EDITING[request.sid] = (card.id, field, current_user.id, current_user.full_name)  # type: ignore[attr-defined]
    if previous and (previous[0], previous[1]) != (card.id, field):
        emit(
            "field.blur",
            {"card_id": previous[0], "field": previous[1], "user_id": current_user.id},
            to=f"card:{previous[0]}",
            include_self=False,
        )
    emit(
        "field.focus",
        {"card_id": card.id, "field": field, "user_id": current_user.id, "name": current_user.full_name},
        to=f"card:{card.id}",
        include_self=False,
    )
    return {"ok": True, "editors": editors(card.id)}


@socketio.on("field.blur")
@socket_login_required
def on_blur(data: Any) -> dict[str, Any]:
    with _LOCK:
        previous = _EDITING.pop(request.sid, None)  # type: ignore[attr-defined]
    if previous:
        emit(
            "field.blur",
            {"card_id": previous[0], "field": previous[1], "user_id": previous[2]},
            to=f"card:{previous[0]}",
            include_self=False,
        )
    return {"ok": True}


@socketio.on("card.editors")
@socket_login_required
def on_editors(data: Any) -> dict[str, Any]:
    card = _card(data)
    if card is None or not policy.can(current_user, "card.view", card):
        return {"ok": False, "error": "forbidden"}
    return {"ok": True, "editors": editors(card.id)}


@socketio.on("disconnect")
def on_disconnect(*args: Any) -> None:
    with _LOCK:
        previous = _EDITING.pop(request.sid, None)  # type: ignore[attr-defined]
    if previous:
        socketio.emit(
            "field.blur",
            {"card_id": previous[0], "field": previous[1], "user_id": previous[2]},
            to=f"card:{previous[0]}",
        )
