"""The server side of co-writing: one live pycrdt Doc per open document and process, group commit, fan-out.

Write path (`submit`): every update waits in its document's queue; whoever holds the document's lock
commits everything queued in one transaction (group commit): lock the `coedit_docs` row, catch up with
updates other processes stored, check each update (permission, decodable, only declared texts, within
limits: applied to a shadow doc first, so a refused update never touches the document), store the
accepted ones with gapless sequence numbers, write the plain text into the domain's rows, commit, and
only then acknowledge. Accepted updates are merged and sent to the document's room at most once per
`FLUSH_WINDOW`, so the number of messages per editor stays bounded however many people type.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from flask import current_app
from pycrdt import Doc, Text, get_state, merge_updates
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import policy
from ..accounts.models import User
from ..db import on_commit, on_rollback, release_session, unit_of_work, utcnow
from ..errors import Invalid, NotFound
from ..extensions import db, socketio
from .models import CoDoc, CoUpdate
from .registry import KINDS, DocKind, FieldChange

FLUSH_WINDOW = 0.015  # seconds between two fan-out messages of one document (at least)
COMPACT_EVERY = 500  # updates appended before they are merged into the snapshot
ACK_TIMEOUT = 30.0
COMMITTER_IDLE = 30.0  # seconds a document's committer thread waits for work before it ends
MAX_UPDATE_BYTES = 512 * 1024


def room(key: str) -> str:
    return f"doc:{key}"


def parse_key(key: Any) -> tuple[DocKind, int]:
    """`"card:12"` -> (card kind, 12); anything else raises NotFound."""
    text = str(key or "")
    name, _sep, ident = text.partition(":")
    kind = KINDS.get(name)
    if (
        kind is None
        or not (ident.isascii() and ident.isdigit())
        or len(ident) > 10
        or not 0 < int(ident) < 2**31
    ):
        raise NotFound("Documento sconosciuto.")
    return kind, int(ident)


# --- sync messages (the y-protocols encoding: a type byte, then a length-prefixed payload) ------------------

STEP1, STEP2, UPDATE = 0, 1, 2


def _var_uint(num: int) -> bytes:
    out = bytearray()
    while num > 127:
        out.append(128 | (num & 127))
        num >>= 7
    out.append(num)
    return bytes(out)


def encode_sync(kind: int, payload: bytes) -> bytes:
    return bytes([kind]) + _var_uint(len(payload)) + payload


def wire(message: bytes) -> str:
    """Messages travel as base64 text, not as Socket.IO binary attachments: the python-socketio and
    python-engineio servers and clients handle each frame in its own thread, so a binary event's attachment
    frames could be reassembled out of order. Base64 costs a third more bytes and removes that race."""
    return base64.b64encode(message).decode("ascii")


def unwire(message: Any) -> bytes:
    if isinstance(message, str) and len(message) <= MAX_UPDATE_BYTES * 4 // 3 + 4:
        try:
            return base64.b64decode(message, validate=True)
        except (ValueError, binascii.Error):
            pass
    raise Invalid("Aggiornamento non valido.")


def decode_sync(message: Any) -> tuple[int, bytes]:
    """Read one y-protocols sync message (base64 text); raise Invalid if it is not one."""
    message = unwire(message)
    if len(message) < 2 or len(message) > MAX_UPDATE_BYTES:
        raise Invalid("Aggiornamento non valido.")
    kind, pos, length, shift = message[0], 1, 0, 0
    while True:
        if pos >= len(message) or shift > 35:
            raise Invalid("Aggiornamento non valido.")
        byte = message[pos]
        pos += 1
        length |= (byte & 127) << shift
        shift += 7
        if byte < 128:
            break
    payload = bytes(message[pos:])
    if kind not in (STEP1, STEP2, UPDATE) or len(payload) != length:
        raise Invalid("Aggiornamento non valido.")
    return kind, payload


# --- live documents -------------------------------------------------------------------------------------


@dataclass
class _Pending:
    data: bytes
    user_id: int | None
    restore: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)
    staged: bool = False  # checked and applied in memory (stage 1)
    store: bool = True  # False for a resend: acknowledged with the next commit, nothing new to store
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)


class LiveDoc:
    def __init__(self, key: str, kind: DocKind, ref_id: int, doc_id: int) -> None:
        self.key, self.kind, self.ref_id, self.doc_id = key, kind, ref_id, doc_id
        self.ydoc: Doc[Any] = Doc()
        self.shadow: Doc[Any] = Doc()  # every update is tried here first
        self.seq = 0
        self.snapshot_seq = 0
        self.texts: dict[str, str] = {}
        self.lock = threading.Lock()  # the document in memory (stage 1: check, apply, send)
        self.persist_lock = threading.Lock()  # this process's committer (stage 2)
        self.queue: list[_Pending] = []  # waiting for stage 1
        self.persist: list[_Pending] = []  # checked and sent, waiting for the commit
        self.qlock = threading.Lock()
        self.wanted = threading.Condition(self.qlock)  # stage 2 has work
        self.committer: threading.Thread | None = None
        self.outbox: list[bytes] = []
        self.olock = threading.Lock()
        self.last_flush = 0.0
        self.sent_at = 0.0  # every update queued for fan-out before this moment has been sent
        self.flush_scheduled = False
        self.broken = False
        self.watched: dict[str, Text] = {}
        self.dirty: set[str] = set()

    def apply(self, data: bytes) -> None:
        self.ydoc.apply_update(data)
        self.shadow.apply_update(data)

    def read_texts(self, doc: Doc[Any]) -> dict[str, str]:
        return {key: str(doc.get(key, type=Text)) for key in root_keys(doc)}

    def rebuild_shadow(self) -> None:
        self.shadow = Doc()
        self.shadow.apply_update(self.ydoc.get_update())
        self.watched, self.dirty = {}, set()

    def watch_shadow(self) -> None:
        """Observe every text of the shadow, so that checking an update reads only the texts it changed
        (a new text counts as changed)."""
        for key in root_keys(self.shadow):
            if key not in self.watched:
                text = self.shadow.get(key, type=Text)
                text.observe(self._marker(key))
                self.watched[key] = text  # keeps the subscription alive
                self.dirty.add(key)

    def _marker(self, key: str) -> Callable[[], None]:
        return lambda: self.dirty.add(key)


def root_keys(doc: Doc[Any]) -> list[str]:
    """The names of a document's root types (pycrdt's `Doc.keys()` builds a typed wrapper for each one)."""
    with doc.transaction() as txn:
        return list(doc._doc.roots(txn._txn))  # type: ignore[arg-type]


_LIVE_LOCK = threading.Lock()


def _live_docs() -> dict[str, LiveDoc]:
    """This app's live documents (per app, so two apps in one process never share a document)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    docs = app.extensions.get("pdz_coedit")
    if docs is None:
        with _LIVE_LOCK:
            docs = app.extensions.setdefault("pdz_coedit", {})
    return docs  # type: ignore[no-any-return]


def _evict(live: LiveDoc) -> None:
    """Memory may be ahead of the database: the next writer reloads it under the row lock."""
    live.broken = True


def _bootstrap(kind: DocKind, ref_id: int, obj: Any) -> None:
    """Create the stored document from the texts in the domain's rows (first opening only), in a session
    of its own that commits at once: a document in memory is never built on a row that might not commit.
    A concurrent bootstrap elsewhere wins through the unique constraint and this one is dropped."""
    ydoc: Doc[Any] = Doc()
    for key, value in sorted(kind.initial_texts(obj).items()):
        if value:
            ydoc[key] = Text(value)
    with Session(db.engine) as session:
        session.add(CoDoc(kind=kind.name, ref_id=ref_id, seq=0, snapshot=ydoc.get_update(), snapshot_seq=0))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()


def exists(kind_name: str, ref_id: int) -> bool:
    return (
        db.session.scalar(select(CoDoc.id).where(CoDoc.kind == kind_name, CoDoc.ref_id == ref_id)) is not None
    )


def _catch_up(live: LiveDoc) -> None:
    """Apply what other processes stored since this process last looked (the database is the truth).
    Never winds the counter back: a reader without the row lock (someone joining) may run while this
    process's committer has numbered and inserted updates that are not committed yet, so a stored number
    below ours is ours in flight, not news. (Memory ahead of the database after a failed commit is marked
    `broken` and rebuilt by `_reload` instead.)"""
    row = db.session.execute(select(CoDoc.seq, CoDoc.snapshot_seq).where(CoDoc.id == live.doc_id)).one()
    if row.seq <= live.seq:
        return
    live.snapshot_seq = row.snapshot_seq
    if row.snapshot_seq > live.seq:  # the updates we lack were compacted: take the snapshot (idempotent)
        live.apply(db.session.scalar(select(CoDoc.snapshot).where(CoDoc.id == live.doc_id)) or b"")
        after = row.snapshot_seq
    else:
        after = live.seq
    for data in db.session.scalars(
        select(CoUpdate.data)
        .where(CoUpdate.doc_id == live.doc_id, CoUpdate.seq > after)
        .order_by(CoUpdate.seq)
    ):
        live.apply(data)
    live.seq = row.seq
    live.texts = live.read_texts(live.ydoc)


def _reload(live: LiveDoc) -> None:
    """Rebuild the live document from the database (after a rollback left memory ahead of it)."""
    stored = db.session.execute(
        select(CoDoc.snapshot, CoDoc.snapshot_seq).where(CoDoc.id == live.doc_id)
    ).one()
    live.ydoc, live.shadow = Doc(), Doc()
    live.apply(stored.snapshot)
    live.seq = live.snapshot_seq = stored.snapshot_seq
    live.texts = live.read_texts(live.ydoc)
    live.broken = False
    _catch_up(live)


def _lock_row(live: LiveDoc) -> None:
    """Take the document's write lock (every process), then bring memory up to the database. Lock order
    everywhere: the database row first, then the document in memory (`live.lock`)."""
    db.session.execute(update(CoDoc).where(CoDoc.id == live.doc_id).values(updated_at=utcnow()))
    with live.lock:
        if live.broken:
            _reload(live)
        else:
            _catch_up(live)


def _seed_missing(live: LiveDoc, obj: Any, only: set[str] | None = None) -> bytes:
    """Texts that exist in the domain's rows but not yet in the document (an entry, a decision or an item
    added after the document was first opened) are put into it, under the row lock: once, on one process.
    Returns the stored update (empty if nothing was missing)."""
    rows = live.kind.initial_texts(obj)
    if only is None:
        missing = {k: v for k, v in rows.items() if v and k not in live.texts}
    else:
        missing = {k: v for k, v in rows.items() if v and k in only}
    if not missing:
        return b""
    scratch: Doc[Any] = Doc()
    scratch.apply_update(live.ydoc.get_update())
    state = scratch.get_state()
    for key, value in sorted(missing.items()):
        scratch.get(key, type=Text).insert(0, value)
    data = scratch.get_update(state)
    live.apply(data)
    live.texts.update({key: str(live.ydoc.get(key, type=Text)) for key in missing})
    live.seq += 1
    db.session.add(CoUpdate(doc_id=live.doc_id, seq=live.seq, data=data, author_id=None))
    db.session.execute(update(CoDoc).where(CoDoc.id == live.doc_id).values(seq=live.seq))
    return data


def open_doc(key: Any, *, load: bool = True) -> tuple[LiveDoc, Any]:
    """The live document for `key` (loaded or created from the database) and the domain object (None with
    `load=False` when the document is already live: the write path re-reads it under the lock anyway)."""
    kind, ref_id = parse_key(key)
    key = f"{kind.name}:{ref_id}"
    docs = _live_docs()
    with _LIVE_LOCK:
        live = docs.get(key)
    if live is not None and not load:
        return live, None
    obj = kind.load(ref_id)
    if obj is None:
        raise NotFound("Documento non trovato.")
    if live is not None:
        return live, obj
    stored = db.session.scalar(select(CoDoc).where(CoDoc.kind == kind.name, CoDoc.ref_id == ref_id))
    if stored is None:
        _bootstrap(kind, ref_id, obj)
        stored = db.session.scalar(select(CoDoc).where(CoDoc.kind == kind.name, CoDoc.ref_id == ref_id))
        obj = kind.load(ref_id)
    assert stored is not None
    fresh = LiveDoc(key, kind, ref_id, stored.id)
    fresh.apply(stored.snapshot)
    fresh.seq = fresh.snapshot_seq = stored.snapshot_seq
    fresh.texts = fresh.read_texts(fresh.ydoc)
    _catch_up(fresh)
    with _LIVE_LOCK:
        live = docs.setdefault(key, fresh)
    return live, obj


def current_texts(key: str) -> dict[str, str]:
    live, _obj = open_doc(key)
    with live.lock:
        _catch_up(live)
        return dict(live.texts)


def sync_step1(key: str, state_vector: bytes) -> tuple[str, str]:
    """Answer an editor's sync step 1: (step 2 with what it lacks, our own step 1)."""
    live, obj = open_doc(key)
    with live.lock:
        _catch_up(live)
        lacking = any(v and k not in live.texts for k, v in live.kind.initial_texts(obj).items())
    if lacking:
        with live.persist_lock, unit_of_work():
            _lock_row(live)
            with live.lock:
                seeded = _seed_missing(live, obj)
        if seeded:
            _queue_out(live, [seeded])
    with live.lock:
        try:
            missing = live.ydoc.get_update(state_vector)
        except Exception as error:  # noqa: BLE001 - pycrdt raises ValueError on a bad state vector
            raise Invalid("Stato del documento non valido.") from error
        return wire(encode_sync(STEP2, missing)), wire(encode_sync(STEP1, live.ydoc.get_state()))


# --- write path -----------------------------------------------------------------------------------------


def submit(key: str, data: bytes, user_id: int | None, *, restore: bool = False) -> dict[str, Any]:
    """Check, apply and send one update, then store it (group commit) and answer once it is committed:
    {"ok": True, "seq": n} or a refusal. Two stages, each batching whatever is waiting:
    1. under the document's memory lock: permission, decoding, schema and limits, applied to the document,
       sent to the other editors at once (they do not wait for the disk);
    2. under this process's committer lock and the database row lock: stored, materialised, committed,
       then acknowledged. Stage 1 of the next updates runs while stage 2 waits for the disk."""
    if not data or len(data) > MAX_UPDATE_BYTES:
        return {"ok": False, "error": "invalid", "message": "Aggiornamento non valido o troppo grande."}
    live, _obj = open_doc(key, load=False)
    if not db.session.new and not db.session.dirty and not db.session.deleted:
        db.session.rollback()  # give the connection back to the pool while waiting
    item = _Pending(bytes(data), user_id, restore)
    with live.qlock:
        live.queue.append(item)
    with live.lock:
        if not item.staged:
            with live.qlock:
                batch, live.queue = live.queue, []
            _stage(live, batch)
    if not item.done.is_set():
        _wake_committer(live)
    if not item.done.wait(ACK_TIMEOUT):
        return {"ok": False, "error": "timeout", "message": "Il server non ha risposto: nuovo tentativo."}
    return item.result


def _wake_committer(live: LiveDoc) -> None:
    """Stage 2 runs in one thread per live document (started when needed, ended when idle): the threads of
    the updates only wait for their own acknowledgement. (Each of them taking the committer lock in turn,
    just to find its update already stored, made a convoy of lock hand-offs under many editors.)"""
    with live.qlock:
        live.wanted.notify()
        if live.committer is not None:
            return
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        live.committer = threading.Thread(
            target=_committer, args=(app, live), name=f"pdz-commit-{live.key}", daemon=True
        )
        live.committer.start()


def _committer(app: Any, live: LiveDoc) -> None:
    """Commits follow the fan-out window: each commit sends what waits in the window (a stored update is
    always sent), so committing at most once per window keeps the messages per second where the window
    puts them, and each commit carries everything typed meanwhile."""
    with app.app_context():
        while True:
            with live.qlock:
                if not live.persist:
                    live.wanted.wait(COMMITTER_IDLE)
                if not live.persist:
                    live.committer = None
                    return
                ready, live.persist = live.persist, []
            taken = time.monotonic()  # every update of `ready` is in the fan-out window by now
            pause = live.last_flush + _window(live) - taken
            if pause > 0:
                time.sleep(pause)  # this document's own thread: until the window sends them
            try:
                with live.persist_lock:
                    _commit(live, ready, sent_after=taken)
            except Exception:  # noqa: BLE001 - every editor of the batch was answered "retry"
                app.logger.exception("co-writing commit failed for %s", live.key)
            finally:
                release_session()


def _stage(live: LiveDoc, batch: list[_Pending]) -> None:
    """Stage 1 (holding `live.lock`): refuse or apply each update in memory, send the accepted ones."""
    try:
        db.session.expire_all()
        obj = live.kind.load(live.ref_id)
        refusal = _permission_checker(live, obj)
        sent: list[bytes] = []
        for item in batch:
            item.staged = True
            reason = refusal(item.user_id) if obj is not None else "Documento non trovato."
            if reason is not None:
                item.result = {"ok": False, "error": "forbidden", "message": reason}
                item.done.set()
                continue
            known = set(live.texts)
            try:
                changed = _try(live, obj, item.data)
            except Invalid as error:
                item.result = {"ok": False, "error": "invalid", "message": error.message}
                item.done.set()
                continue
            if changed is None:
                item.store = False
            else:
                item.changed, item.fresh = changed, set(changed) - known
                sent.append(item.data)
            with live.qlock:
                live.persist.append(item)
        if sent:
            # Sent to the other editors now, before the commit: they see the typing without waiting for the
            # disk. Safe, because only the author's acknowledgement waits for the commit: if the commit
            # fails, the author is answered "retry" and resyncs, which sends the update again.
            _queue_out(live, sent)
    except Exception:
        for item in batch:
            if not item.done.is_set():
                item.staged = True
                item.result = {
                    "ok": False,
                    "error": "retry",
                    "message": "Salvataggio non riuscito: nuovo tentativo.",
                }
                item.done.set()
        current_app.logger.exception("co-writing check failed for %s", live.key)
    finally:
        db.session.rollback()


PERMISSION_TTL = 2.0  # seconds a "may write" answer is reused; any change of rights forgets it at once


def forget_permissions(user_id: int | None = None) -> None:
    """Forget cached answers (of one person, or everyone) in this process: called when rights change."""
    with _PERMISSIONS_LOCK:
        if user_id is None:
            _PERMISSIONS.clear()
        else:
            for key in [k for k in _PERMISSIONS if k[2] == user_id]:
                del _PERMISSIONS[key]


# Keyed by app too: two apps in one process (as in the tests) never share an answer.
_PERMISSIONS: dict[tuple[int, str, int | None], tuple[float, str | None]] = {}
_PERMISSIONS_LOCK = threading.Lock()
_APP_NUMBERS = itertools.count(1)


def _app_number() -> int:
    """A number of this app's own, never reused in the process (unlike `id()`)."""
    extensions = current_app.extensions
    if "pdz_coedit_number" not in extensions:
        with _PERMISSIONS_LOCK:
            extensions.setdefault("pdz_coedit_number", next(_APP_NUMBERS))
    return int(extensions["pdz_coedit_number"])


def _permission_checker(live: LiveDoc, obj: Any) -> Callable[[int | None], str | None]:
    """Whether each author may write now (policy and the document's state), read from the database at most
    once every PERMISSION_TTL seconds per person and document, and at once after `forget_permissions`."""
    policy.forget_memberships()
    now = time.monotonic()
    closed = obj is None or not live.kind.writable(obj)
    app_id = _app_number()

    def refusal(user_id: int | None) -> str | None:
        if closed:
            return "Questo documento non si può più modificare: il testo non è stato salvato."
        key = (app_id, live.key, user_id)
        with _PERMISSIONS_LOCK:
            cached = _PERMISSIONS.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = db.session.get(User, user_id) if user_id is not None else None
        ok = user is not None and user.is_active and live.kind.can_edit(user, obj)
        answer = None if ok else "Non puoi modificare questo documento: il testo non è stato salvato."
        with _PERMISSIONS_LOCK:
            _PERMISSIONS[key] = (now + PERMISSION_TTL, answer)
        return answer

    return refusal


def _state_vector(data: bytes) -> dict[int, int]:
    out: dict[int, int] = {}
    pos = 0

    def var() -> int:
        nonlocal pos
        value, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 127) << shift
            shift += 7
            if byte < 128:
                return value

    for _ in range(var()):
        client = var()
        out[client] = var()
    return out


def _covers(state: bytes, update_state: bytes) -> bool:
    """Whether a document at `state` surely holds every insertion of an update whose state is `update_state`.
    An update that does not start at its clients' first clock reports an empty state: never "covered" (it is
    stored again rather than risk dropping an update that is still pending)."""
    wanted = _state_vector(update_state)
    have = _state_vector(state)
    return bool(wanted) and all(have.get(client, 0) >= clock for client, clock in wanted.items())


def _try(live: LiveDoc, obj: Any, data: bytes) -> dict[str, tuple[str, str]] | None:
    """Apply `data` to the shadow and check it; on success apply it to the document too.
    Returns {key: (before, after)} of the texts it changed (None: a resend, nothing to store); raises
    Invalid (document untouched)."""
    kind = live.kind
    before_state = live.shadow.get_state()
    live.watch_shadow()
    live.dirty.clear()
    try:
        live.shadow.apply_update(data)
    except Exception as error:  # noqa: BLE001 - undecodable
        live.rebuild_shadow()
        raise Invalid("Aggiornamento non leggibile: rifiutato, il documento non è cambiato.") from error
    live.watch_shadow()
    after = {key: str(live.watched[key]) for key in live.dirty}
    changed: dict[str, tuple[str, str]] = {}
    for key, text in after.items():
        previous = live.texts.get(key, "")
        if text == previous and key in live.texts:
            continue
        limit = kind.accepts_key(obj, key)
        if limit is None:
            live.rebuild_shadow()
            raise Invalid("Aggiornamento rifiutato: tocca un campo che questo documento non ha.")
        if len(text) > limit:
            live.rebuild_shadow()
            raise Invalid(
                f"Il testo è troppo lungo: al massimo {limit:,} caratteri, ne contiene {len(text):,}. "
                "Le ultime modifiche non sono state salvate.".replace(",", ".")
            )
        if text != previous:
            changed[key] = (previous, text)
    if not changed and _covers(before_state, get_state(data)):
        return None  # everything in it was integrated already (a resend): nothing to store
    # Otherwise it is stored, even if nothing changed yet: an update that arrived before the one it builds
    # on stays pending inside the document and is integrated when that one arrives.
    live.ydoc.apply_update(data)
    live.texts.update({key: texts[1] for key, texts in changed.items()})
    for key in after:
        live.texts.setdefault(key, after[key])
    return changed


def _commit(live: LiveDoc, batch: list[_Pending], sent_after: float | None = None) -> None:
    """Stage 2 (holding `live.persist_lock`): store the staged updates in order, materialise, commit, answer."""
    if not batch:
        return
    seeded = b""
    try:
        with unit_of_work():
            db.session.execute(update(CoDoc).where(CoDoc.id == live.doc_id).values(updated_at=utcnow()))
            with live.lock:
                if live.broken:  # a failed commit left memory unsure: rebuild it, with this batch again
                    _reload(live)
                    for item in batch:
                        if item.store:
                            live.apply(item.data)
                    live.texts = live.read_texts(live.ydoc)
                else:
                    _catch_up(live)  # updates other processes stored meanwhile
            db.session.expire_all()  # the domain's rows as they are now, under the lock
            obj = live.kind.load(live.ref_id)
            runs: list[FieldChange] = []
            fresh: set[str] = set()
            for item in batch:
                fresh |= item.fresh
                for key, (before, after) in item.changed.items():
                    last = runs[-1] if runs else None
                    if last is not None and last.key == key and last.author_id == item.user_id:
                        runs[-1] = FieldChange(key, item.user_id, last.before, after, item.restore)
                    else:
                        runs.append(FieldChange(key, item.user_id, before, after, item.restore))
            with live.lock:
                if fresh and obj is not None:  # an editor typed in a text the document did not hold yet
                    seeded = _seed_missing(live, obj, fresh)  # the rows' text of it goes in too, merged
                texts = dict(live.texts)
            # The rows get each text as it is now in memory, which holds everything committed by any process
            # (caught up under the row lock) plus this batch: never an older text computed before a commit
            # of another process.
            last_of = {r.key: i for i, r in enumerate(runs)}
            runs = [
                FieldChange(r.key, r.author_id, r.before, texts.get(r.key, r.after), r.restore)
                if last_of[r.key] == i
                else r
                for i, r in enumerate(runs)
            ]
            # One stored row per author and commit (their updates merged), inserted in one statement.
            by_author: dict[int | None, list[bytes]] = {}
            for item in batch:
                if item.store:
                    by_author.setdefault(item.user_id, []).append(item.data)
            rows = []
            with live.lock:
                for author_id, datas in by_author.items():
                    live.seq += 1
                    data = datas[0] if len(datas) == 1 else merge_updates(*datas)
                    rows.append(
                        {"doc_id": live.doc_id, "seq": live.seq, "data": data, "author_id": author_id}
                    )
                seq = live.seq  # this commit's last number, whatever a reader does to `live` meanwhile
            if rows:
                db.session.execute(insert(CoUpdate), rows)
            values: dict[str, Any] = {"seq": seq}
            if seq - live.snapshot_seq >= COMPACT_EVERY:
                with live.lock:
                    values.update(snapshot=live.ydoc.get_update(), snapshot_seq=seq)
                live.snapshot_seq = seq
                db.session.execute(
                    delete(CoUpdate).where(CoUpdate.doc_id == live.doc_id, CoUpdate.seq <= seq)
                )
            db.session.execute(update(CoDoc).where(CoDoc.id == live.doc_id).values(**values))
            if runs and obj is not None:
                live.kind.materialise(obj, runs, utcnow())
            # Whatever waits in the fan-out window goes out before the commit: a stored update is always
            # sent (a process killed after its commit cannot leave editors of other processes without it).
            # The committer waits for the window, so usually the window has already sent the whole batch.
            if sent_after is None or live.sent_at < sent_after:
                _flush(live)
    except Exception:
        _evict(live)
        for item in batch:
            item.result = {
                "ok": False,
                "error": "retry",
                "message": "Salvataggio non riuscito: nuovo tentativo.",
            }
            item.done.set()
        raise
    for item in batch:
        item.result = {"ok": True, "seq": seq}
        item.done.set()
    if seeded:
        _queue_out(live, [seeded])


def catch_up_later(key: str, sid: str, still_open: Callable[[], bool]) -> None:
    """With several processes, an editor who joins while others type on another process may miss updates
    that process had already sent to the room (before this editor entered it) but not yet stored (so they
    were not in the state this editor received). A little later (`PDZ_COEDIT_CATCH_UP` seconds), when they
    are stored, send this editor what was stored since it joined: receiving an update twice is harmless.
    Sent straight to the socket, not through the room, so only while `still_open()`: a socket that left
    the document, or lost the right to read it, receives nothing more of it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    delays = tuple(app.config.get("PDZ_COEDIT_CATCH_UP") or ())
    if not app.config.get("PDZ_REDIS_URL") or not delays:
        return  # one process: the state sent at joining holds everything already sent to the room
    live, _obj = open_doc(key, load=False)
    since = live.seq

    def send(remaining: tuple[float, ...]) -> None:
        if not still_open():
            return
        with app.app_context():
            try:
                row = db.session.execute(select(CoDoc.snapshot_seq).where(CoDoc.id == live.doc_id)).one()
                if row.snapshot_seq > since:
                    datas = [db.session.scalar(select(CoDoc.snapshot).where(CoDoc.id == live.doc_id)) or b""]
                else:
                    datas = list(
                        db.session.scalars(
                            select(CoUpdate.data)
                            .where(CoUpdate.doc_id == live.doc_id, CoUpdate.seq > since)
                            .order_by(CoUpdate.seq)
                        )
                    )
                if datas and still_open():
                    merged = datas[0] if len(datas) == 1 else merge_updates(*datas)
                    message = {"doc": key, "msg": wire(encode_sync(UPDATE, merged)), "catch_up": True}
                    socketio.emit("coedit.update", message, to=sid)
            except Exception:  # noqa: BLE001 - best effort: the page also resyncs when it sees a gap
                app.logger.exception("late catch-up of %s failed", key)
            finally:
                release_session()
        if len(remaining) > 1:
            _later(remaining[1] - remaining[0], send, remaining[1:])

    _later(delays[0], send, delays)


def _later(delay: float, function: Callable[..., None], *args: Any) -> None:
    timer = threading.Timer(delay, function, args=args)
    timer.daemon = True
    timer.start()


# --- fan-out --------------------------------------------------------------------------------------------


def _window(live: LiveDoc) -> float:
    """The time between two messages of a document grows with its audience (1 ms per editor connected to
    this process, from FLUSH_WINDOW up to 60 ms): the messages sent per second stay about the same however
    many people type, each message simply carries more of their keystrokes."""
    try:
        members = len(socketio.server.manager.rooms.get("/", {}).get(room(live.key), ()))
    except AttributeError:  # no server (a command, a test without Socket.IO)
        members = 0
    return min(max(FLUSH_WINDOW, members / 1000), 0.06)


def _queue_out(live: LiveDoc, datas: list[bytes]) -> None:
    with live.olock:
        live.outbox.extend(datas)
        if live.flush_scheduled:
            return
        wait = live.last_flush + _window(live) - time.monotonic()
        live.flush_scheduled = True
    if wait <= 0:
        _flush(live)
    else:
        timer = threading.Timer(wait, _flush, args=(live,))
        timer.daemon = True
        timer.start()


def _flush(live: LiveDoc) -> None:
    with live.olock:
        datas, live.outbox = live.outbox, []
        live.flush_scheduled = False
        live.last_flush = taken = time.monotonic()
    if not datas:
        return
    merged = datas[0] if len(datas) == 1 else merge_updates(*datas)
    socketio.emit(
        "coedit.update", {"doc": live.key, "msg": wire(encode_sync(UPDATE, merged))}, to=room(live.key)
    )
    with live.olock:
        live.sent_at = max(live.sent_at, taken)  # everything queued before `taken` is on its way


# --- server-made changes (restore, import) --------------------------------------------------------------


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _edit_update(live: LiveDoc, field_key: str, new_text: str) -> bytes:
    """The smallest Yjs update turning `field_key`'s current text into `new_text` (made on a scratch copy)."""
    scratch: Doc[Any] = Doc()
    scratch.apply_update(live.ydoc.get_update())
    state = scratch.get_state()
    text = scratch.get(field_key, type=Text)
    old = str(text)
    with scratch.transaction():
        # pycrdt counts positions in UTF-8 bytes, not Python characters: work from the end, so that
        # earlier positions stay valid, converting each one.
        for op, i1, i2, j1, j2 in reversed(
            SequenceMatcher(None, old, new_text, autojunk=False).get_opcodes()
        ):
            if op == "equal":
                continue
            at, length = _utf8(old[:i1]), _utf8(old[i1:i2])
            if length:
                del text[at : at + length]
            if j2 > j1:
                text.insert(at, new_text[j1:j2])
    return b"" if str(text) == old else scratch.get_update(state)


def write_in_transaction(key: str, field_key: str, change: str | Callable[[str], str], *, actor: Any) -> None:
    """Set one text inside the caller's transaction (a vote's outcome written into the minutes): the
    change is stored and materialised with the caller's other changes, and sent to the editors only if
    that transaction commits. It is not checked against the editing permission: the caller's service
    decided (the text may be written into minutes that people cannot edit at that moment)."""
    kind, ref_id = parse_key(key)
    if not exists(
        kind.name, ref_id
    ):  # nobody opened it yet: the rows are the text, the document starts from them
        obj = kind.load(ref_id)
        if obj is None:
            raise NotFound("Documento non trovato.")
        before = kind.initial_texts(obj).get(field_key, "")
        new_text = change(before) if callable(change) else change
        if before != new_text:
            kind.materialise(
                obj, [FieldChange(field_key, getattr(actor, "id", None), before, new_text)], utcnow()
            )
        return
    live, obj = open_doc(key)
    _lock_row(live)
    with live.lock:
        before = live.texts.get(field_key, "")
        new_text = change(before) if callable(change) else change
        limit = live.kind.accepts_key(obj, field_key)
        if limit is None or len(new_text) > limit:
            raise Invalid("Testo non valido per questo documento.")
        data = _edit_update(live, field_key, new_text)
        if not data:
            return
        live.apply(data)
        live.texts = live.read_texts(live.ydoc)
        live.seq += 1
        db.session.add(
            CoUpdate(doc_id=live.doc_id, seq=live.seq, data=data, author_id=getattr(actor, "id", None))
        )
        db.session.execute(update(CoDoc).where(CoDoc.id == live.doc_id).values(seq=live.seq))
        live.kind.materialise(
            obj, [FieldChange(field_key, getattr(actor, "id", None), before, new_text)], utcnow()
        )
    on_rollback(db.session, lambda: _evict(live))
    on_commit(db.session, lambda: _queue_out(live, [data]))


def replace_text(
    key: str, field_key: str, new_text: str, *, actor: Any, restore: bool = True
) -> dict[str, Any]:
    """Change one text to `new_text` with the smallest edit, as a normal update authored by `actor`:
    it is checked, stored and merged live into the open editors like anyone's typing."""
    live, _obj = open_doc(key)
    with live.lock:
        _catch_up(live)
        data = _edit_update(live, field_key, new_text)
    if not data:
        return {"ok": True, "seq": live.seq, "unchanged": True}
    return submit(key, data, getattr(actor, "id", None), restore=restore)
