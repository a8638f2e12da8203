"""Socket.IO events of co-writing: the Yjs sync protocol (steps 1 and 2, updates) and awareness.

Events (payloads are objects; `msg` is base64 text of a message in the y-protocols encoding):
- `coedit.join {doc, msg: step1}` -> ack `{ok, readonly, limits, step2, step1}`: joins `doc:<doc>`.
- `coedit.update {doc, msg: step2|update}` -> ack after commit `{ok, seq}` or `{ok: false, error, message}`.
- `coedit.awareness {doc, msg}`: presence and cursors, relayed (never stored) with the sender's real name.
- `coedit.leave {doc}`.
The server sends `coedit.update`, `coedit.awareness`, `coedit.awareness_query` (answer with your state),
`coedit.revoked {doc, readonly}` when the person may no longer read (or write) the document.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import emit, leave_room

from .. import livecheck, policy
from ..accounts.models import User
from ..errors import PdzError
from ..extensions import db, socketio
from ..sockets import join_if_connected, socket_login_required
from . import engine

# Per process: sid -> user id, and sid -> {doc key: {yjs client id: last awareness clock}}.
_SID_USER: dict[str, int] = {}
_JOINED: dict[str, dict[str, dict[int, int]]] = {}
_LOCK = threading.Lock()
COLOURS = ["#b3261e", "#1d5fa8", "#2e7d32", "#8e24aa", "#c25e00", "#00796b", "#ad1457", "#5d4037"]


def colour(user_id: int) -> str:
    return COLOURS[user_id % len(COLOURS)]


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


def _payload(data: Any) -> dict[str, Any] | None:
    return data if isinstance(data, dict) else None


def _open(data: Any, *, need_edit: bool) -> tuple[str, Any, Any, bool] | dict[str, Any]:
    """(key, live, obj, may_edit) for a permitted document, else an error ack."""
    payload = _payload(data)
    if payload is None:
        return {"ok": False, "error": "invalid", "message": "Richiesta non valida."}
    try:
        live, obj = engine.open_doc(payload.get("doc"))
    except PdzError:
        return {"ok": False, "error": "not_found", "message": "Documento non trovato."}
    policy.forget_memberships()
    if not live.kind.can_view(current_user, obj):
        return {"ok": False, "error": "forbidden", "message": "Non puoi vedere questo documento."}
    may_edit = bool(live.kind.can_edit(current_user, obj))
    if need_edit and not may_edit:
        return {"ok": False, "error": "forbidden", "message": "Non puoi modificare questo documento."}
    return live.key, live, obj, may_edit


@socketio.on("coedit.join")
@socket_login_required
def on_join(data: Any) -> dict[str, Any]:
    opened = _open(data, need_edit=False)
    if isinstance(opened, dict):
        return opened
    key, live, obj, may_edit = opened
    try:
        kind, payload = engine.decode_sync(data.get("msg"))
        if kind != engine.STEP1:
            raise PdzError("step 1 expected")
    except PdzError:
        return {"ok": False, "error": "invalid", "message": "Richiesta di sincronizzazione non valida."}
    # Into the room first, then the state: an update sent in between arrives twice (harmless), never zero times.
    if not join_if_connected(engine.room(key)):  # the page left while its join was being handled
        return {"ok": False, "error": "gone", "message": "Connessione chiusa."}
    try:
        step2, step1 = engine.sync_step1(key, payload)
    except PdzError:
        leave_room(engine.room(key))
        return {"ok": False, "error": "invalid", "message": "Richiesta di sincronizzazione non valida."}
    with _LOCK:
        _SID_USER[_sid()] = current_user.id
        _JOINED.setdefault(_sid(), {}).setdefault(key, {})
    sid = _sid()

    def still_open() -> bool:
        with _LOCK:
            return key in _JOINED.get(sid, {})

    engine.catch_up_later(key, sid, still_open)
    emit("coedit.awareness_query", {"doc": key}, to=engine.room(key), include_self=False)
    return {
        "ok": True,
        "doc": key,
        "readonly": not may_edit,
        "limits": live.kind.limits(obj),
        "step2": step2,
        "step1": step1,
        "user": {"id": current_user.id, "name": current_user.full_name, "color": colour(current_user.id)},
    }


def on_update(sid: str, *args: Any) -> dict[str, Any]:
    """The hot path, once per keystroke: no query before the commit and no Flask request context (no URL
    binding, request object or session per keystroke), only the app context. The socket signed in at
    connection and joined the document after a permission check (`_SID_USER`, `_JOINED`); who may write is
    checked again by the engine for every update. Registered straight on the Socket.IO server by
    `install_fast_paths`."""
    environ = socketio.server.get_environ(sid, namespace="/") if socketio.server else None
    if not environ:
        return {"ok": False, "error": "not_joined", "message": "Apri prima il documento."}
    app = environ["flask.app"]
    with app.app_context():
        try:
            return _update(sid, args[0] if len(args) == 1 else None)  # one object, or refused
        except Exception:  # noqa: BLE001 - answered like any other failure, and logged with its traceback
            app.logger.exception("coedit.update failed")
            return {"ok": False, "error": "retry", "message": "Salvataggio non riuscito: nuovo tentativo."}
        finally:
            db.session.remove()


def _update(sid: str, data: Any) -> dict[str, Any]:
    payload = _payload(data)
    if payload is None:
        return {"ok": False, "error": "invalid", "message": "Richiesta non valida."}
    key = str(payload.get("doc", ""))
    with _LOCK:
        joined = key in _JOINED.get(sid, {})
        user_id = _SID_USER.get(sid)
    if not joined or user_id is None:
        return {"ok": False, "error": "not_joined", "message": "Apri prima il documento."}
    try:
        kind, update = engine.decode_sync(payload.get("msg"))
    except PdzError as error:
        return {"ok": False, "error": "invalid", "message": error.message}
    if kind == engine.STEP1:
        return {"ok": False, "error": "invalid", "message": "Messaggio non previsto."}
    try:
        return engine.submit(key, update, user_id)
    except PdzError as error:
        return {"ok": False, "error": "invalid", "message": error.message}


def install_fast_paths() -> None:
    """After `socketio.init_app`: `coedit.update` goes straight to the Socket.IO server's handler table."""
    socketio.server.on("coedit.update", on_update, namespace="/")


def _read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 49:
            raise ValueError("truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 127) << shift
        shift += 7
        if byte < 128:
            return value, pos


def _var_uint(num: int) -> bytes:
    return engine._var_uint(num)


def decode_awareness(data: bytes) -> list[tuple[int, int, Any]]:
    count, pos = _read_var_uint(data, 0)
    if count > 64:
        raise ValueError("too many states")
    states = []
    for _ in range(count):
        client, pos = _read_var_uint(data, pos)
        clock, pos = _read_var_uint(data, pos)
        length, pos = _read_var_uint(data, pos)
        if pos + length > len(data):
            raise ValueError("truncated")
        states.append((client, clock, json.loads(data[pos : pos + length].decode("utf-8"))))
        pos += length
    return states


def encode_awareness(states: list[tuple[int, int, Any]]) -> bytes:
    out = [_var_uint(len(states))]
    for client, clock, state in states:
        raw = json.dumps(state, separators=(",", ":")).encode("utf-8")
        out += [_var_uint(client), _var_uint(clock), _var_uint(len(raw)), raw]
    return b"".join(out)


@socketio.on("coedit.awareness")
@socket_login_required
def on_awareness(data: Any) -> dict[str, Any]:
    """Relay presence (focused field, cursor) with the sender's identity set by the server, not the page."""
    payload = _payload(data)
    if payload is None:
        return {"ok": False, "error": "invalid"}
    key = str(payload.get("doc", ""))
    raw = payload.get("msg")
    with _LOCK:
        clients = _JOINED.get(_sid(), {}).get(key)
    if clients is None or not isinstance(raw, str) or len(raw) > 22_000:
        return {"ok": False, "error": "invalid"}
    try:
        states = decode_awareness(engine.unwire(raw))
    except (PdzError, ValueError, UnicodeDecodeError, IndexError):
        return {"ok": False, "error": "invalid"}
    me = {"id": current_user.id, "name": current_user.full_name, "color": colour(current_user.id)}
    clean = []
    for client, clock, state in states:
        if isinstance(state, dict):
            state = {**{k: v for k, v in state.items() if k in ("field", "cursor", "editing")}, "user": me}
        elif state is not None:
            continue
        clean.append((client, clock, state))
        with _LOCK:
            clients[client] = clock
    if clean:
        emit(
            "coedit.awareness",
            {"doc": key, "msg": engine.wire(encode_awareness(clean))},
            to=engine.room(key),
            include_self=False,
        )
    return {"ok": True}


def _drop_presence(sid: str, key: str, clients: dict[int, int]) -> None:
    if clients:
        gone = [(client, clock + 1, None) for client, clock in clients.items()]
        socketio.emit(
            "coedit.awareness",
            {"doc": key, "msg": engine.wire(encode_awareness(gone))},
            to=engine.room(key),
            skip_sid=sid,
        )


@socketio.on("coedit.leave")
@socket_login_required
def on_leave(data: Any) -> dict[str, Any]:
    key = str((_payload(data) or {}).get("doc", ""))
    with _LOCK:
        clients = _JOINED.get(_sid(), {}).pop(key, None)
    if clients is not None:
        leave_room(engine.room(key))
        _drop_presence(_sid(), key, clients)
    return {"ok": True}


@socketio.on("disconnect")
def on_disconnect(*args: Any) -> None:
    sid = _sid()
    with _LOCK:
        joined = _JOINED.pop(sid, {})
        _SID_USER.pop(sid, None)
    for key, clients in joined.items():
        _drop_presence(sid, key, clients)


# --- permissions that change while sockets are open -----------------------------------------------------
# `pdz.livecheck` notices every change of rights at flush time and, after the commit, calls `_recheck` on
# every process; it also checks each outgoing message of a `doc:` room against `_may_read`.


@livecheck.emit_rule("doc")
def _may_read(user: Any, key: str) -> bool:
    try:
        kind, ref_id = engine.parse_key(key)
    except PdzError:
        return False
    obj = kind.load(ref_id)
    return obj is not None and bool(kind.can_view(user, obj))


@livecheck.on_forget
def _forget_permissions(user_ids: list[int] | None) -> None:
    """At the commit, before any other update is stored: the engine asks the database again."""
    if user_ids is None:
        engine.forget_permissions()
    else:
        for user_id in user_ids:
            engine.forget_permissions(user_id)


@livecheck.on_recheck
def _recheck(user_ids: list[int] | None) -> None:
    _forget_permissions(user_ids)
    wanted = None if user_ids is None else set(user_ids)
    with _LOCK:
        sids = [sid for sid, uid in _SID_USER.items() if wanted is None or uid in wanted]
        owners = {sid: _SID_USER[sid] for sid in sids}
        opened = {sid: list(_JOINED.get(sid, {})) for sid in sids}
    if not sids:
        return
    policy.forget_memberships()
    users = {uid: db.session.get(User, uid) for uid in set(owners.values())}
    for sid, keys in opened.items():
        user = users[owners[sid]]
        for key in keys:
            try:
                live, obj = engine.open_doc(key)
            except PdzError:
                obj = None
            active = user is not None and user.is_active
            if obj is None or not active or not live.kind.can_view(user, obj):
                with _LOCK:
                    clients = _JOINED.get(sid, {}).pop(key, {})
                socketio.server.leave_room(sid, engine.room(key), namespace="/")
                socketio.emit("coedit.revoked", {"doc": key, "readonly": True, "gone": True}, to=sid)
                _drop_presence(sid, key, clients)
            elif not live.kind.can_edit(user, obj):
                socketio.emit("coedit.revoked", {"doc": key, "readonly": True, "gone": False}, to=sid)
