"""Socket.IO: authenticated connections, room joins checked by the policy, replay after reconnect."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import disconnect, join_room, leave_room
from sqlalchemy.exc import DataError

from . import policy, realtime
from .extensions import db, socketio
from .inputs import REFUSED_BY_THE_DATABASE, first_problem, int64, positive_id
from .tavoli.models import Body

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
    body = db.session.get(Body, ident)
    return body is not None and policy.can(user, "tavolo.view", body)


def may_join(user: Any, room: str) -> bool:
    prefix, _sep, ident = (room if isinstance(room, str) else "").partition(":")
    check = ROOM_RULES.get(prefix)
    number = positive_id(ident)
    if check is None or number is None:
        return False
    policy.forget_memberships()  # sockets live long: never trust a cached membership
    return bool(getattr(user, "is_authenticated", False) and user.is_active and check(user, number))


def join_if_connected(room: str) -> bool:
    """Join `room`, unless this socket has already gone: a page that navigates away while its join is being
    handled disconnects first, and python-socketio then raises (KeyError or ValueError) on entering a room.
    Such a join is ignored, and False returned."""
    sid, namespace = request.sid, request.namespace  # type: ignore[attr-defined]
    if not socketio.server.manager.is_connected(sid, namespace):
        return False
    try:
        join_room(room)
    except (KeyError, ValueError):  # gone between the check and the join
        return False
    return True


def invalid(message: str = "") -> dict[str, Any]:
    """The answer to a payload of the wrong shape: nothing was done."""
    return {"ok": False, "error": "invalid", "message": message or _("Richiesta non valida.")}


def socket_login_required(handler: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(handler)

    @wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            disconnect()
            return {"ok": False, "error": "unauthenticated"}
        try:
            signature.bind(*args, **kwargs)
        except TypeError:  # no data, or several arguments, where the handler takes one
            return invalid()
        try:
            return handler(*args, **kwargs)
        finally:
            db.session.remove()

    return wrapped


def socket_payload(handler: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    """The handler receives exactly one object whose texts hold no NUL and no broken Unicode; anything else
    (no data, a string, a list, several arguments) is answered `invalid()` without calling it."""

    @wraps(handler)
    def wrapped(*args: Any) -> Any:
        if len(args) != 1 or not isinstance(args[0], dict):
            return invalid(_("Richiesta non valida: è atteso un oggetto con i dati."))
        problem = first_problem(args[0])
        if problem:
            return invalid(problem)
        return handler(args[0])

    return wrapped


def _raised_by_the_call(error: BaseException) -> bool:
    """True when the handler could not even be called with what the page sent (no data, two arguments):
    the innermost frame is Flask-SocketIO's, not the handler's."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_globals.get("__name__") == "flask_socketio"


@socketio.on_error_default
def on_handler_error(error: Exception) -> dict[str, Any] | bool:
    """A handler that raised still answers, so the page never waits for an acknowledgement that cannot come.
    An event the handler cannot take (no data, several arguments) is bad input, not a server error."""
    event = getattr(request, "event", None) or {}
    db.session.remove()
    if event.get("message") == "connect":
        current_app.logger.error("socket connection failed", exc_info=error)
        return False  # refused: the page reconnects later
    if isinstance(error, DataError):
        current_app.logger.warning(
            "socket event %s: value refused by the database: %s", event.get("message"), error.orig
        )
        return invalid(str(REFUSED_BY_THE_DATABASE))
    if isinstance(error, TypeError) and _raised_by_the_call(error):
        logging.getLogger(__name__).warning(
            "socket event %s: wrong number of arguments", event.get("message")
        )
        return invalid()
    current_app.logger.error("socket event %s failed", event.get("message"), exc_info=error)
    return {
        "ok": False,
        "error": "server",
        "message": _("Si è verificato un errore imprevisto. Riprova tra poco."),
    }


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
@socket_payload
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    room = data.get("room")
    if not isinstance(room, str):
        return invalid(_("Indica la stanza da seguire."))
    if not may_join(current_user, room):
        return {"ok": False, "error": "forbidden"}
    if not join_if_connected(room):
        return {"ok": False, "error": "gone"}
    return {"ok": True, "room": room, "last_event_id": realtime.last_event_id(room)}


@socketio.on("room.leave")
@socket_login_required
@socket_payload
def on_leave(data: dict[str, Any]) -> dict[str, Any]:
    room = data.get("room")
    if not isinstance(room, str):
        return invalid(_("Indica la stanza da lasciare."))
    leave_room(room)
    return {"ok": True}


@socketio.on("events.since")
@socket_login_required
@socket_payload
def on_replay(data: dict[str, Any]) -> dict[str, Any]:
    """A reconnecting page asks for what it missed; only rooms it may still join are answered."""
    rooms = data.get("rooms") or []
    if not isinstance(rooms, list) or not all(isinstance(r, str) for r in rooms):
        return invalid(_("Indica le stanze come elenco di nomi."))
    rooms = rooms[:50]
    try:
        after = int64(data.get("after", 0))
    except ValueError:
        return invalid(_("Indica l'ultimo evento ricevuto con un numero."))
    allowed = [room for room in rooms if may_join(current_user, room)]
    events, as_of = realtime.replay(allowed, after)
    return {"ok": True, "rooms": allowed, "events": events, "as_of": as_of}
