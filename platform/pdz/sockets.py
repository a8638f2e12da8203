"""Socket.IO: authenticated connections, room joins checked by the policy, replay after reconnect."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user
from flask_socketio import disconnect, join_room, leave_room

from . import policy, realtime
from .extensions import db, socketio

# room prefix -> function(user, id) -> bool. Domains add theirs (cards, meetings...).
ROOM_RULES: dict[str, Callable[[Any, int], bool]] = {}


def room_rule(prefix: str) -> Callable[[Callable[[Any, int], bool]], Callable[[Any, int], bool]]:
    def register(func: Callable[[Any, int], bool]) -> Callable[[Any, int], bool]:
        ROOM_RULES[prefix] = func
        return func

    return register


@room_rule("user")
def _own_room(user: Any, ident: int) -> bool:
    return user.id == ident


@room_rule("tavolo")
def _tavolo_room(user: Any, ident: int) -> bool:
    from .tavoli.models import Body

    body = db.session.get(Body, ident)
    return body is not None and policy.can(user, "tavolo.view", body)


def may_join(user: Any, room: str) -> bool:
    prefix, _sep, ident = (room or "").partition(":")
    check = ROOM_RULES.get(prefix)
    if check is None or not ident.isdigit():
        return False
    policy.forget_memberships()  # sockets live long: never trust a cached membership
    return bool(getattr(user, "is_authenticated", False) and user.is_active and check(user, int(ident)))


def socket_login_required(handler: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            disconnect()
            return {"ok": False, "error": "unauthenticated"}
        try:
            return handler(*args, **kwargs)
        finally:
            db.session.remove()

    return wrapped


@socketio.on("connect")
def on_connect(auth: Any = None) -> bool:
    try:
        if not current_user.is_authenticated:
            return False
        join_room(f"user:{current_user.id}")
        return True
    finally:
        db.session.remove()


@socketio.on("room.join")
@socket_login_required
def on_join(data: Any) -> dict[str, Any]:
    room = str((data or {}).get("room", ""))
    if not may_join(current_user, room):
        return {"ok": False, "error": "forbidden"}
    join_room(room)
    return {"ok": True, "room": room, "last_event_id": realtime.last_event_id(room)}


@socketio.on("room.leave")
@socket_login_required
def on_leave(data: Any) -> dict[str, Any]:
    leave_room(str((data or {}).get("room", "")))
    return {"ok": True}


@socketio.on("events.since")
@socket_login_required
def on_replay(data: Any) -> dict[str, Any]:
    """A reconnecting page asks for what it missed; only rooms it may still join are answered."""
    data = data or {}
    rooms = [str(r) for r in (data.get("rooms") or [])][:50]
    try:
        after = int(data.get("after", 0))
    except (TypeError, ValueError):
        return {"ok": False, "error": "invalid"}
    allowed = [room for room in rooms if may_join(current_user, room)]
    return {"ok": True, "rooms": allowed, "events": realtime.events_since(allowed, after)}
