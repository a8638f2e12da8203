"""Live channels follow permissions at every moment, on every process.

Two guards, one rule (the room rules of `pdz.sockets`, plus `EMIT_RULES` for rooms joined another way,
such as the co-writing engine's `doc:<kind>:<id>`):

1. **When rights change, sockets leave at once.** A change that can take a right away (a membership ended
   or its role changed, a body's status changed, an account disabled or its staff role changed, an
   affiliation removed) is noticed at flush time, whichever service made it, so no caller has to remember.
   After the commit every process (through Redis when `PDZ_REDIS_URL` is set) re-checks the rooms of the
   sockets of those people: a socket that may no longer be in a room leaves it and is told
   (`room.revoked`); the domains that keep their own live state (the co-writing engine) re-check theirs.
2. **Every event is checked before it goes out.** The Socket.IO client manager delivers an event to a room
   only to the sockets the rule still admits (an answer kept for `CHECK_TTL` seconds per socket and room,
   forgotten as soon as the rights of its person change); a socket refused there is also removed.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
import socketio as socketio_lib
from flask import Flask, current_app
from sqlalchemy import event, inspect

from . import policy
from .accounts.models import Affiliation, User
from .db import on_commit, release_session
from .extensions import db, socketio
from .sockets import ROOM_RULES
from .tavoli.models import Body, Membership

CHECK_TTL = 120.0  # seconds an outgoing check is reused (spread by ±25%), unless the person's rights change

# room prefix -> check(user, ident) for rooms not joined through `room.join` (co-writing documents)
EMIT_RULES: dict[str, Callable[[Any, str], bool]] = {}
# called on every process after a change of rights, with the people concerned (None: everyone)
RECHECKS: list[Callable[[list[int] | None], None]] = []
# called at the commit itself (no SQL): caches of rights kept by the domains
FORGETS: list[Callable[[list[int] | None], None]] = []


def emit_rule(prefix: str) -> Callable[[Callable[[Any, str], bool]], Callable[[Any, str], bool]]:
    def register(func: Callable[[Any, str], bool]) -> Callable[[Any, str], bool]:
        EMIT_RULES[prefix] = func
        return func

    return register


def on_recheck(func: Callable[[list[int] | None], None]) -> Callable[[list[int] | None], None]:
    if func not in RECHECKS:
        RECHECKS.append(func)
    return func


def on_forget(func: Callable[[list[int] | None], None]) -> Callable[[list[int] | None], None]:
    if func not in FORGETS:
        FORGETS.append(func)
    return func


def _rule(room: str) -> Callable[[Any], bool] | None:
    """The check for one room, or None for rooms that need none (a person's own room, a socket's room)."""
    prefix, _sep, ident = room.partition(":")
    if not ident or prefix == "user":
        return None
    if prefix in EMIT_RULES:
        emit_check = EMIT_RULES[prefix]
        return lambda user: emit_check(user, ident)
    room_check = ROOM_RULES.get(prefix)
    if room_check is None:
        return None
    if not ident.isdigit():
        return lambda user: False
    return lambda user: room_check(user, int(ident))


def _user_of(manager: Any, sid: str) -> int | None:
    for name in manager.get_rooms(sid, "/"):
        if isinstance(name, str) and name.startswith("user:") and name[5:].isdigit():
            return int(name[5:])
    return None


def _admits(user: Any, room: str) -> bool:
    rule = _rule(room)
    if rule is None:
        return True
    policy.forget_memberships()
    return bool(user is not None and user.is_active and rule(user))


# --- 1. rights that change ------------------------------------------------------------------------------


def rights_changed_after_commit(user_ids: list[int] | None) -> None:
    """After the commit, every process re-checks the rooms of these people (None: everyone connected)."""
    session = db.session()
    pending = session.info.get("pdz_rights")
    if pending is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        pending = session.info["pdz_rights"] = {"users": set(), "everyone": False}

        def send() -> None:
            ids = None if pending["everyone"] else sorted(pending["users"])
            _announce(app, ids)

        on_commit(session, send)
    if user_ids is None:
        pending["everyone"] = True
    else:
        pending["users"].update(int(i) for i in user_ids)


def _watch_flushes(session: Any, _context: Any) -> None:
    """Notice, in any unit of work, the changes that can take a right away."""
    users: set[int] = set()
    everyone = False
    for obj in session.dirty:
        if isinstance(obj, User) and _changed(obj, "active", "staff_role"):
            users.add(obj.id)
        elif isinstance(obj, Membership) and _changed(obj, "role", "ended_at", "body_id", "user_id"):
            users.add(obj.user_id)
        elif isinstance(obj, Body) and _changed(obj, "status"):
            everyone = True
        elif isinstance(obj, Affiliation) and _changed(obj, "organisation_id", "user_id", "function"):
            users.add(obj.user_id)
    for obj in session.deleted:
        if isinstance(obj, Membership | Affiliation):
            users.add(obj.user_id)
        elif isinstance(obj, User):
            users.add(obj.id)
    if everyone:
        _queue(session, None)
    elif users:
        _queue(session, sorted(users))


def _changed(obj: Any, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _queue(session: Any, user_ids: list[int] | None) -> None:
    try:
        current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return  # no app (a bare script): nobody is connected
    if session is not db.session():
        return  # another session (the engine's own): not a request's unit of work
    rights_changed_after_commit(user_ids)


def _announce(app: Flask, user_ids: list[int] | None) -> None:
    _forget(app, user_ids)  # this process: at once, before any other event goes out
    url = app.config.get("PDZ_REDIS_URL")
    if url:
        try:
            redis.Redis.from_url(url).publish(_channel(app), json.dumps({"users": user_ids}))
            return
        except redis.RedisError:
            app.logger.exception("rights change not published: re-checking this process only")
    # one process (or Redis down): re-check here, outside the committing session (no SQL in after_commit)
    threading.Thread(target=_recheck_in, args=(app, user_ids), daemon=True).start()


def _channel(app: Flask) -> str:
    return (app.config.get("PDZ_REDIS_CHANNEL") or "flask-socketio") + "-rights"


def _recheck_in(app: Flask, user_ids: list[int] | None) -> None:
    with app.app_context():
        try:
            _recheck(app, user_ids)
        except Exception:  # noqa: BLE001 - a failed re-check must not kill the listener silently
            app.logger.exception("live rooms re-check failed")
        finally:
            release_session()


def _recheck(app: Flask, user_ids: list[int] | None) -> None:
    _forget(app, user_ids)
    server = socketio.server
    if server is None:
        return
    manager = server.manager
    namespace = manager.rooms.get("/", {})
    if user_ids is None:
        people = {name[5:] for name in list(namespace) if isinstance(name, str) and name.startswith("user:")}
        ids = sorted(int(p) for p in people if p.isdigit())
    else:
        ids = user_ids
    for user_id in ids:
        sids = list(namespace.get(f"user:{user_id}", {}))
        if not sids:
            continue
        user = db.session.get(User, user_id)
        for sid in sids:
            for room in list(manager.get_rooms(sid, "/")):
                if not isinstance(room, str) or room == sid or room.startswith("doc:"):
                    continue  # the socket's own room; co-writing documents are re-checked by the engine
                if not _admits(user, room):
                    _revoke(manager, sid, room)
    for recheck in list(RECHECKS):
        recheck(user_ids)


def _revoke(manager: Any, sid: str, room: str) -> None:
    manager.basic_leave_room(sid, "/", room)
    socketio.emit("room.revoked", {"room": room}, to=sid)


def start_listener(app: Flask) -> None:
    """With Redis, one thread per app listens for the rights changes announced by every process."""
    url = app.config.get("PDZ_REDIS_URL")
    if not url or app.extensions.get("pdz_rights_listener"):
        return
    app.extensions["pdz_rights_listener"] = True

    def listen() -> None:
        lost = False
        while True:
            try:
                pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(_channel(app))
                if lost:  # the message queue is back: what other processes sent meanwhile never came
                    lost = False
                    _resync_pages(app)
                for message in pubsub.listen():
                    try:
                        users = json.loads(message["data"])["users"]
                    except (ValueError, KeyError, TypeError):
                        continue
                    ids = None if users is None else [int(u) for u in users]
                    _recheck_in(app, ids)
            except redis.RedisError:
                lost = True
                _forget(app, None)  # announcements may have been missed: check every socket again
                time.sleep(1)  # Redis is down: try again (the outgoing checks still expire meanwhile)

    threading.Thread(target=listen, name="pdz-rights", daemon=True).start()


def _resync_pages(app: Flask) -> None:
    """Tell every page connected to this process to catch up from the database (`live.resync`), now and
    again a little later, when the Socket.IO fan-out has surely reconnected to Redis too."""

    def tell() -> None:
        server = socketio.server
        if server is not None:
            server.manager.emit("live.resync", {}, "/", room=None, ignore_queue=True)

    tell()
    timer = threading.Timer(RESYNC_AGAIN, tell)
    timer.daemon = True
    timer.start()
    app.logger.warning("message queue back: pages asked to catch up")


RESYNC_AGAIN = 5.0


# --- 2. every event checked before it goes out ----------------------------------------------------------

_CACHE_LOCK = threading.Lock()


def _cache(app: Flask) -> dict[tuple[str, str], tuple[float, bool, int | None]]:
    found = app.extensions.get("pdz_live_checks")
    if found is None:
        with _CACHE_LOCK:
            found = app.extensions.setdefault("pdz_live_checks", {})
    return found  # type: ignore[no-any-return]


def _forget(app: Flask, user_ids: list[int] | None) -> None:
    for forget in list(FORGETS):
        forget(user_ids)
    cache = _cache(app)
    with _CACHE_LOCK:
        if user_ids is None:
            cache.clear()
        else:
            wanted = set(user_ids)
            for key in [k for k, v in cache.items() if v[2] in wanted]:
                del cache[key]


class _Checked:
    """Mixin for a python-socketio client manager: local delivery to a room goes only to admitted sockets."""

    app: Flask
    rooms: dict[Any, Any]

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        room = to or room
        refused = self._refused(namespace or "/", room) if isinstance(room, str) else []
        if refused:
            skip = list(skip_sid) if isinstance(skip_sid, list) else ([skip_sid] if skip_sid else [])
            skip_sid = skip + refused
        result = super().emit(  # type: ignore[misc]
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
        )
        for sid in refused:  # out of the room already; told, as when a change of rights is announced
            super().emit(  # type: ignore[misc]
                "room.revoked", {"room": room}, namespace, room=sid, skip_sid=None, callback=None
            )
        return result

    def _refused(self, namespace: str, room: str) -> list[str]:
        if _rule(room) is None:
            return []
        participants = list(self.rooms.get(namespace, {}).get(room, {}))
        if not participants:
            return []
        cache, now = _cache(self.app), time.monotonic()
        refused, unknown = [], []
        with _CACHE_LOCK:
            for sid in participants:
                hit = cache.get((sid, room))
                if hit is None or hit[0] < now:
                    unknown.append(sid)
                elif not hit[1]:
                    refused.append(sid)
        if unknown:
            refused += self._check(namespace, room, unknown, cache, now)
        for sid in refused:
            self.basic_leave_room(sid, namespace, room)  # type: ignore[attr-defined]
        return refused

    def _check(
        self, namespace: str, room: str, sids: list[str], cache: dict[Any, Any], now: float
    ) -> list[str]:
        refused: list[str] = []
        with self.app.app_context():
            try:
                for sid in sids:
                    user_id = _user_of(self, sid)
                    user = db.session.get(User, user_id) if user_id is not None else None
                    ok = _admits(user, room)
                    with _CACHE_LOCK:
                        cache[(sid, room)] = (now + CHECK_TTL * random.uniform(0.75, 1.25), ok, user_id)
                        if len(cache) > 20000:  # sockets that went away: drop what has expired
                            for key in [k for k, v in cache.items() if v[0] < now]:
                                del cache[key]
                    if not ok:
                        refused.append(sid)
            except Exception:  # noqa: BLE001 - when the check cannot run, nobody unchecked receives
                self.app.logger.exception("live check of %s failed", room)
                return [sid for sid in sids if sid not in refused]
            finally:
                release_session()
        return refused


class CheckedManager(_Checked, socketio_lib.Manager):
    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app


class CheckedRedisManager(socketio_lib.RedisManager, _Checked, socketio_lib.Manager):  # type: ignore[misc]
    """Redis fan-out between processes; each process checks before delivering to its own sockets (the
    pub/sub layer calls the local `emit` through `super()`, which reaches `_Checked` first)."""

    def __init__(self, app: Flask, url: str, channel: str) -> None:
        super().__init__(url, channel=channel)
        self.app = app


def client_manager(app: Flask) -> Any:
    url = app.config.get("PDZ_REDIS_URL")
    if url:
        return CheckedRedisManager(app, url, app.config.get("PDZ_REDIS_CHANNEL") or "flask-socketio")
    return CheckedManager(app)


def install(app: Flask) -> None:
    """Watch flushes for rights changes (once per session class) and listen for other processes' changes."""
    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "after_flush", _watch_flushes):
        event.listen(session_class, "after_flush", _watch_flushes)
    start_listener(app)
