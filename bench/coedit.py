"""Co-writing benchmark: N real Socket.IO editors type into one card document through the CRDT engine.

    /work/main/.venv/bin/python bench/coedit.py --editors 20 --seconds 10
    /work/main/.venv/bin/python bench/coedit.py --editors 20 --processes 2          # PostgreSQL + Redis
    /work/main/.venv/bin/python bench/coedit.py --editors 20 --kill                 # kill -9 a server mid-run

Starts its own server process(es) (bench/serve.py, threading mode) on a fresh database with the demo loaded
(SQLite for one process; a fresh PostgreSQL database, dropped afterwards, plus Redis for two), signs in the
demo accounts that may edit the card, and connects N python-socketio clients (websocket transport), each
joined to `card:<id>` through `pdz.coedit.pyclient.Editor`, as a page does.

Every editor types on a fixed schedule that never waits for replies (`--cps` characters a second), one
character per keystroke, one update per keystroke. It types unique tokens `e<editor>x<n>|`, alternately
into the shared field (`context`) and into a field of its own (spread over the card's long texts). A new
token starts at position 0 or right after a `|`, so nobody ever types inside somebody's unfinished token
and every token stays contiguous: a token missing from the final text is a loss (`lost` counts its
characters). After the deadline every editor finishes its token, then the bench waits for all acks and for
a quiet state (every client's state vector equal to the stored document's) and compares the texts of every
client, of a fresh editor joining, of the document rebuilt from the database and of `card_values`.

Latency of a keystroke: from the typing event until the LAST other editor has integrated it. Receivers do
not scan text: one ASCII character is one Yjs clock tick, so after each remote update a receiver reads its
state vector, and for every sender the clocks it newly covers are the keystrokes it has just received.
The floor is the round trip of `coedit.leave` on a document not joined (answered at once by the app, through
the same authenticated socket handler path) from editor 0's socket during the same run, p50.

Recovery is the page's (static/js/coedit.js): an update unacknowledged for `--ack-timeout` seconds (20)
-> re-join a second later; after a reconnection -> re-join (the join sends whatever the server lacks);
keystrokes made while not joined stay in the local document until then. `server_exceptions` counts the
exceptions in the servers' logs (kept in the run's temporary directory, printed on stderr).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import engineio
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from bench import servers  # noqa: E402
from pycrdt import Assoc, Doc, Text  # noqa: E402

from pdz.coedit.engine import UPDATE, _state_vector, encode_sync, wire  # noqa: E402
from pdz.coedit.pyclient import Editor  # noqa: E402

SHARED_FIELD = "context"
SHORT_FIELDS = {"title", "subtitle"}  # 300 characters at most: nobody types there
PG_ADMIN_URL = os.environ.get("PDZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PDZ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
FLOOR_DOC = "card:0"  # never joined: coedit.leave answers {ok: True} at once


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def decode_sv(state: bytes) -> dict[int, int]:
    """A Yjs state vector: varint count, then (client id, clock) varint pairs (the engine's decoder)."""
    return _state_vector(state)


def proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


# --- database ------------------------------------------------------------------------------------------


def pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def prepare_database(url: str, instance: Path, card_key: str) -> tuple[int, list[str]]:
    """Migrate, load the demo; return the card's id and the accounts that may edit it."""
    os.environ["PDZ_INSTANCE_DIR"] = str(instance)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from pdz import create_app, policy
    from pdz.accounts.models import User
    from pdz.cards.models import Card
    from pdz.db import unit_of_work
    from pdz.demo import load_demo
    from pdz.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "PDZ_ARGON2_TIME_COST": 1, "PDZ_ARGON2_MEMORY_COST": 1024}
    )
    with app.app_context():
        upgrade()
        with unit_of_work():
            load_demo()
        card = db.session.scalar(select(Card).where(Card.key == card_key))
        assert card is not None, f"no demo card with key {card_key}"
        writers = [
            user.email
            for user in db.session.scalars(select(User).order_by(User.email))
            if user.is_active and policy.can(user, "card.edit", card)
        ]
        card_id = card.id
        db.session.remove()
        db.engine.dispose()
    assert writers, "nobody may edit the card"
    return int(card_id), writers


class Truth:
    """The server's truth read from the database: the stored CRDT document and the materialised rows."""

    def __init__(self, url: str, card_id: int) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url)
        self.card_id = card_id

    def doc(self) -> Doc:
        from sqlalchemy import text

        while True:
            with self.engine.connect() as c:
                row = c.execute(
                    text(
                        "SELECT id, seq, snapshot, snapshot_seq FROM coedit_docs WHERE kind='card' AND ref_id=:r"
                    ),
                    {"r": self.card_id},
                ).one()
                datas = (
                    c.execute(
                        text("SELECT data FROM coedit_updates WHERE doc_id=:d AND seq>:s ORDER BY seq"),
                        {"d": row.id, "s": row.snapshot_seq},
                    )
                    .scalars()
                    .all()
                )
                again = c.execute(
                    text("SELECT seq, snapshot_seq FROM coedit_docs WHERE id=:d"), {"d": row.id}
                ).one()
            if (again.seq, again.snapshot_seq) == (row.seq, row.snapshot_seq) and len(
                datas
            ) == row.seq - row.snapshot_seq:
                break
            time.sleep(0.05)  # a commit or a compaction in between: read again
        doc = Doc()
        doc.apply_update(bytes(row.snapshot))
        for data in datas:
            doc.apply_update(bytes(data))
        return doc

    def values(self) -> dict[str, str]:
        from sqlalchemy import text

        with self.engine.connect() as c:
            rows = c.execute(
                text("SELECT key, value_source FROM card_values WHERE card_id=:c"), {"c": self.card_id}
            ).all()
        return {key: value or "" for key, value in rows}

    def close(self) -> None:
        self.engine.dispose()


# --- measuring -----------------------------------------------------------------------------------------


class Tracker:
    """Per keystroke: sent time, how many other editors have it, when the last one got it."""

    def __init__(self, editors: int) -> None:
        self.n = editors
        self.lock = threading.Lock()
        self.client_of: dict[int, int] = {}  # Yjs client id -> editor index
        self.sent: list[list[float]] = [[] for _ in range(editors)]
        self.count: list[list[int]] = [[] for _ in range(editors)]
        self.done: list[list[float]] = [[] for _ in range(editors)]
        self.covered = [[0] * editors for _ in range(editors)]  # receiver -> sender -> clock covered
        self.pairs: list[float] = []  # one sample per (keystroke, receiver)

    def typed(self, editor: int, at: float) -> None:
        with self.lock:
            self.sent[editor].append(at)
            self.count[editor].append(0)
            self.done[editor].append(0.0)

    def observe(self, receiver: int, state: bytes, at: float) -> None:
        vector = decode_sv(state)
        others = self.n - 1
        with self.lock:
            covered = self.covered[receiver]
            for client, clock in vector.items():
                sender = self.client_of.get(client)
                if sender is None or sender == receiver:
                    continue
                old = covered[sender]
                if clock <= old:
                    continue
                covered[sender] = clock
                sent, count, done = self.sent[sender], self.count[sender], self.done[sender]
                for k in range(old, min(clock, len(sent))):
                    count[k] += 1
                    self.pairs.append(at - sent[k])
                    if count[k] == others:
                        done[k] = at

    def latencies(self) -> tuple[list[float], int]:
        out, incomplete = [], 0
        for sent, done in zip(self.sent, self.done, strict=True):
            for s, d in zip(sent, done, strict=True):
                if d:
                    out.append((d - s) * 1000)
                else:
                    incomplete += 1
        return out, incomplete


# --- editors ---------------------------------------------------------------------------------------


class OrderedEngineIO(engineio.Client):
    """python-engineio's client runs every received message in a new thread, so a binary Socket.IO event
    (a text header, then one frame per attachment) can be reassembled out of order (attachments swapped,
    or parsed as a header: `ValueError: invalid literal for int() ... b'\\x02'`). A browser reads its
    socket in order; so do these clients: messages are handled in the read thread, one after another."""

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class OrderedClient(socketio.Client):
    def _engineio_client_class(self) -> type[engineio.Client]:
        return OrderedEngineIO


# -------------------------------------------------------------------------------------------


class BenchEditor(Editor):
    """pyclient.Editor plus: a typing schedule, token bookkeeping, reconnect + re-join, measuring hooks."""

    def __init__(
        self, index: int, url: str, cookie: str, key: str, own: str, tracker: Tracker, seed: int
    ) -> None:
        self.index, self.url, self.own, self.tracker = index, url, own, tracker
        self.rng = random.Random(seed)
        client = OrderedClient(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2)
        super().__init__(client, key)
        tracker.client_of[self.doc.client_id] = index
        self.typing_lock = threading.Lock()
        self.online = False  # joined on the current connection: keystrokes are sent, else kept locally
        self.started = False
        self.rejoins = 0
        self.rejoin_errors: list[str] = []
        self.sent_updates = 0
        self.keystrokes = 0
        self.tokens: list[tuple[str, str]] = []  # (field, token) finished
        self.current: tuple[str, str] | None = None
        self.typed_in_token = 0
        self.sticky: Any = None
        self.token_no = 0
        self.lags: list[float] = []
        self.ack_ms: list[float] = []
        self.outstanding: dict[int, float] = {}  # emitted updates not yet acknowledged: number -> time sent
        self.emit_no = 0
        self.ack_timeouts = 0
        self.late_acks = 0
        client.on("connect", self._on_connect)
        client.on("disconnect", self._on_disconnect)
        client.connect(url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)

    # -- connection --
    def _on_connect(self) -> None:
        if self.started:  # a reconnection: join again in a thread (handlers must not block on acks)
            threading.Thread(target=self._rejoin, daemon=True).start()

    def _on_disconnect(self, *_args: Any) -> None:
        self.online = False

    def first_join(self) -> dict[str, Any]:
        ack = self.join()
        assert ack.get("ok") and not ack.get("readonly"), ack
        self.online = self.started = True
        return ack

    def _rejoin(self) -> None:
        with self.typing_lock:  # keystrokes wait for the join: it sends everything the server lacks
            with self.lock:
                self.pending = 0  # acks of the dead connection never come; join resends what was lost
                self.outstanding.clear()
            for _attempt in range(20):
                try:
                    ack = self.join()
                    if ack.get("ok"):
                        self.online = True
                        self.rejoins += 1
                        self._observe()
                        return
                    self.rejoin_errors.append(str(ack))
                except Exception as error:  # noqa: BLE001 - retried
                    self.rejoin_errors.append(repr(error))
                if not self.sio.connected:
                    return  # the next connect event tries again
                time.sleep(0.2)

    # -- receiving --
    def _on_update(self, data: Any) -> None:
        if not isinstance(data, dict) or data.get("doc") != self.key:
            return
        from pdz.coedit.engine import decode_sync

        _kind, payload = decode_sync(data["msg"])
        with self.lock:
            self.doc.apply_update(payload)
            self.remote_updates += 1
            state = self.doc.get_state()
        self.tracker.observe(self.index, state, time.perf_counter())

    def _observe(self) -> None:
        with self.lock:
            state = self.doc.get_state()
        self.tracker.observe(self.index, state, time.perf_counter())

    # -- typing --
    def keystroke(self) -> None:
        with self.typing_lock:
            at = time.perf_counter()
            with self.lock:
                if self.current is None:
                    field = SHARED_FIELD if self.token_no % 2 == 0 else self.own
                    self.current = (field, f"e{self.index}x{self.token_no}|")
                    self.token_no += 1
                    self.typed_in_token = 0
                    text = str(self.doc.get(field, type=Text))
                    spots = [0] + [i + 1 for i, ch in enumerate(text) if ch == "|"]
                    position = self.rng.choice(spots)
                else:
                    position = self.sticky.get_index()
                field, token = self.current
                ytext = self.doc.get(field, type=Text)
                before = self.doc.get_state()
                ytext.insert(position, token[self.typed_in_token])
                update = self.doc.get_update(before)
                self.sticky = ytext.sticky_index(position + 1, Assoc.BEFORE)
                self.typed_in_token += 1
                self.keystrokes += 1
                if self.typed_in_token == len(token):
                    self.tokens.append(self.current)
                    self.current = None
                self.tracker.typed(self.index, at)
            if self.online:
                message = {"doc": self.key, "msg": wire(encode_sync(UPDATE, update))}
                with self.lock:
                    self.pending += 1
                    self.emit_no += 1
                    number = self.emit_no
                    self.outstanding[number] = at
                try:
                    self.sio.emit(
                        "coedit.update", message, callback=lambda *answer: self._ack(number, at, *answer)
                    )
                    self.sent_updates += 1
                except Exception:  # noqa: BLE001 - disconnected: kept locally, the re-join sends it
                    with self.lock:
                        self.pending -= 1
                        self.outstanding.pop(number, None)
                    self.online = False

    def _ack(self, number: int, at: float, answer: Any = None, *_rest: Any) -> None:
        self.ack_ms.append((time.perf_counter() - at) * 1000)
        with self.lock:
            mine = self.outstanding.pop(number, None) is not None
        if mine:
            self._acked(answer)
        else:
            self.late_acks += 1  # after a re-join reset the count
            self.acks.append(answer)

    def check_acks(self, timeout: float) -> None:
        """As the page does: an update unacknowledged for `timeout` seconds -> re-join after a second."""
        with self.lock:
            oldest = min(self.outstanding.values(), default=None)
        if oldest is not None and self.online and time.perf_counter() - oldest > timeout:
            self.ack_timeouts += 1
            self.online = False
            timer = threading.Timer(1.0, self._rejoin)
            timer.daemon = True
            timer.start()

    def type_until(self, start: float, until: float, interval: float) -> None:
        due = start + self.rng.uniform(0, interval)
        while True:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            if due >= until and self.current is None:
                return
            self.lags.append((time.perf_counter() - due) * 1000)
            self.keystroke()
            due += interval

    def vector(self) -> dict[int, int]:
        with self.lock:
            return decode_sv(self.doc.get_state())


def ack_watchdog(editors: list[BenchEditor], stop: threading.Event, timeout: float) -> None:
    while not stop.wait(0.5):
        for editor in editors:
            editor.check_acks(timeout)


def floor_probe(editor: BenchEditor, stop: threading.Event, samples: list[float], errors: list[str]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            answer = editor.sio.call("coedit.leave", {"doc": FLOOR_DOC}, timeout=5)
            if isinstance(answer, dict) and answer.get("ok"):
                samples.append((time.perf_counter() - started) * 1000)
        except Exception as error:  # noqa: BLE001 - during a kill the probe's socket may be down
            errors.append(repr(error))
        stop.wait(0.05)


def login_cookie(base: str, email: str) -> str:
    session = servers.sign_in(base, email)  # staff accounts also type the demo's TOTP code
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


# --- the run -------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pdz.cards import fields
    from pdz.cards.coedit import TEXT_KEYS

    own_fields = [k for k in TEXT_KEYS if k != SHARED_FIELD and k not in SHORT_FIELDS]
    work = Path(tempfile.mkdtemp(prefix="pdz-bench-coedit-"))
    pg_name = None
    if args.processes == 1:
        database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    else:
        pg_name = f"pdz_bench_{uuid.uuid4().hex[:10]}"
        pg_admin(f"CREATE DATABASE {pg_name}")
        database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_name
    procs: list[Any] = []
    editors: list[BenchEditor] = []
    truth: Truth | None = None
    try:
        log(f"preparing database {database_url}")
        card_id, writers = prepare_database(database_url, work, args.card)
        key = f"card:{card_id}"
        env = {
            "PDZ_DATABASE_URL": database_url,
            "PDZ_INSTANCE_DIR": str(work),
            "PDZ_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "PDZ_LOGIN_RATE_LIMIT": "100000 per minute",
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
        }
        if args.processes > 1:
            env.update({"PDZ_REDIS_URL": REDIS_URL, "PDZ_REDIS_CHANNEL": f"pdz-bench-{uuid.uuid4().hex}"})
        ports = [free_port() for _ in range(args.processes)]
        for port in ports:
            procs.append(servers.start(port, env, log=work / f"server_{port}.log"))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        log(f"servers up: {bases}; {len(writers)} accounts may edit {key}")
        cookies = [login_cookie(bases[0], email) for email in writers]
        tracker = Tracker(args.editors)
        for i in range(args.editors):
            editor = BenchEditor(
                i,
                bases[i % args.processes],
                cookies[i % len(cookies)],
                key,
                own_fields[i % len(own_fields)],
                tracker,
                seed=i,
            )
            editor.first_join()
            editors.append(editor)
        log(f"{len(editors)} editors joined {key}; typing {args.cps:g} cps each for {args.seconds:g}s")
        truth = Truth(database_url, card_id)
        time.sleep(0.5)

        interval = 1.0 / args.cps
        start = time.perf_counter() + 0.2
        until = start + args.seconds
        cpu0, server_cpu0 = time.process_time(), [proc_cpu_seconds(p.pid) for p in procs]
        typists = [
            threading.Thread(target=e.type_until, args=(start, until, interval), daemon=True) for e in editors
        ]
        for thread in typists:
            thread.start()
        stop_floor = threading.Event()
        floor: list[float] = []
        floor_errors: list[str] = []
        probe = threading.Thread(
            target=floor_probe, args=(editors[0], stop_floor, floor, floor_errors), daemon=True
        )
        probe.start()
        stop_watchdog = threading.Event()
        watchdog = threading.Thread(
            target=ack_watchdog, args=(editors, stop_watchdog, args.ack_timeout), daemon=True
        )
        watchdog.start()
        killed: dict[str, Any] | None = None
        if args.kill:
            time.sleep(max(0.0, start + args.seconds / 2 - time.perf_counter()))
            victim = len(procs) - 1
            old = procs[victim]
            server_cpu0[victim] -= proc_cpu_seconds(
                old.pid
            )  # keep the killed process's share; the new one starts at 0
            old.kill()  # SIGKILL: no shutdown, whatever was not committed is gone
            old.wait()
            killed_at = time.perf_counter()
            procs[victim] = servers.start(
                ports[victim], env, log=work / f"server_{ports[victim]}_restarted.log"
            )
            killed = {"process": victim, "restart_s": round(time.perf_counter() - killed_at, 2)}
            log(f"killed server {victim} at t={killed_at - start:.1f}s, restarted in {killed['restart_s']}s")
        for thread in typists:
            thread.join()
        typed_end = time.perf_counter()
        stop_floor.set()
        probe.join(timeout=10)
        wall = typed_end - start
        client_cpu = time.process_time() - cpu0
        server_cpu = [proc_cpu_seconds(p.pid) - c for p, c in zip(procs, server_cpu0, strict=True)]

        # -- quiet: every ack in, every client online with the stored state --
        log("typing done; waiting for acks and a quiet state")
        quiet_deadline = time.monotonic() + args.quiet_timeout
        quiet = False
        server_doc = None
        while time.monotonic() < quiet_deadline:
            if all(e.pending == 0 and e.online for e in editors):
                server_doc = truth.doc()
                stored = decode_sv(server_doc.get_state())
                if all(e.vector() == stored for e in editors):
                    quiet = True
                    break
            time.sleep(0.1)
        quiet_s = time.perf_counter() - typed_end
        stop_watchdog.set()
        if server_doc is None:
            server_doc = truth.doc()

        # -- truth --
        def texts_of(doc: Doc) -> dict[str, str]:
            return {k: str(doc.get(k, type=Text)) for k in TEXT_KEYS}

        stored_texts = texts_of(server_doc)
        fresh_sio = OrderedClient(reconnection=False)
        fresh_sio.connect(bases[0], headers={"Cookie": cookies[0]}, transports=["websocket"], wait_timeout=10)
        fresh = Editor(fresh_sio, key)
        fresh_ack = fresh.join()
        fresh_texts = texts_of(fresh.doc) if fresh_ack.get("ok") else {}
        fresh_sio.disconnect()
        if fresh_texts != stored_texts:
            for k in TEXT_KEYS:
                if fresh_texts.get(k) != stored_texts.get(k):
                    log(
                        f"fresh editor differs on {k}: {len(fresh_texts.get(k) or '')} vs stored {len(stored_texts[k])} chars"
                    )
        for e in editors:
            mine = texts_of(e.doc)
            if mine != stored_texts:
                diff = [k for k in TEXT_KEYS if mine[k] != stored_texts[k]]
                log(
                    f"editor {e.index} differs on {diff}: online={e.online} pending={e.pending} rejoins={e.rejoins}"
                )
        values = truth.values()
        materialised = {k: values.get(k, "") for k in TEXT_KEYS}
        expected_rows = {k: fields.SPECS[k].clean(v) for k, v in stored_texts.items()}
        clients_equal = sum(texts_of(e.doc) == stored_texts for e in editors)
        converged = (
            quiet
            and clients_equal == len(editors)
            and fresh_texts == stored_texts
            and materialised == expected_rows
        )

        # -- loss: a finished token must be present in full in the final server text --
        typed = sum(e.keystrokes for e in editors)
        lost = lost_tokens = lost_in_doc = 0
        tokens = 0
        for e in editors:
            for field, token in e.tokens:
                tokens += 1
                if token not in materialised.get(field, ""):
                    lost += len(token)
                    lost_tokens += 1
                if token not in stored_texts.get(field, ""):
                    lost_in_doc += len(token)
        clock_mismatch = sum(
            decode_sv(e.doc.get_state()).get(e.doc.client_id, 0) != e.keystrokes for e in editors
        )

        latencies, incomplete = tracker.latencies()
        pairs = [p * 1000 for p in tracker.pairs]
        p50 = percentile(latencies, 50)
        floor_p50 = statistics.median(floor) if floor else float("nan")
        acks = [m for e in editors for m in e.ack_ms]
        lags = [m for e in editors for m in e.lags]
        refused = [r for e in editors for r in e.refused]
        for r in refused[:5]:
            log(f"refused: {r}")
        for e in editors:
            for message in e.rejoin_errors[:2]:
                log(f"editor {e.index} re-join error: {message}")
        errors: dict[str, int] = {}
        for path in work.glob("server_*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if re.match(r"^[A-Za-z_.]+(Error|Exception): ", line):
                    name = line.split(":", 1)[0]
                    errors[name] = errors.get(name, 0) + 1
        if errors:
            log(f"server exceptions (logs in {work}): {errors}")
        result = {
            "editors": args.editors,
            "processes": args.processes,
            "seconds": args.seconds,
            "cps": args.cps,
            "kill": bool(args.kill),
            "typed": typed,
            "tokens": tokens,
            "sent_updates": sum(e.sent_updates for e in editors),
            "acked": sum(1 for e in editors for a in e.acks if isinstance(a, dict) and a.get("ok")),
            "refused": len(refused),
            "lost": lost,
            "lost_tokens": lost_tokens,
            "lost_in_stored_doc": lost_in_doc,
            "converged": converged,
            "quiet": quiet,
            "quiet_after_s": round(quiet_s, 2),
            "clients_equal": clients_equal,
            "fresh_equal": fresh_texts == stored_texts,
            "rows_equal": materialised == expected_rows,
            "clock_mismatch": clock_mismatch,
            "p50_ms": round(p50, 2),
            "p90_ms": round(percentile(latencies, 90), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies), 2) if latencies else None,
            "incomplete": incomplete,
            "pair_p50_ms": round(percentile(pairs, 50), 2),
            "pair_p99_ms": round(percentile(pairs, 99), 2),
            "ack_p50_ms": round(percentile(acks, 50), 2),
            "ack_p99_ms": round(percentile(acks, 99), 2),
            "floor_p50_ms": round(floor_p50, 2),
            "floor_samples": len(floor),
            "ratio_p50": round(p50 / floor_p50, 2) if floor else None,
            "typing_lag_p99_ms": round(percentile(lags, 99), 2),
            "remote_msgs": sum(e.remote_updates for e in editors),
            "client_cpu_cores": round(client_cpu / wall, 2),
            "server_cpu_cores": [round(c / wall, 2) for c in server_cpu],
            "machine_cores": os.cpu_count(),
            "rejoins": sum(e.rejoins for e in editors),
            "ack_timeouts": sum(e.ack_timeouts for e in editors),
            "unacked_at_end": sum(len(e.outstanding) for e in editors),
            "killed": killed,
            "server_exceptions": errors,
            "database": "postgresql" if args.processes > 1 else "sqlite",
        }
        return result
    finally:
        # Servers first: a client's disconnect then ends at once instead of waiting up to 3 s each for a
        # closing handshake (50 editors took minutes to leave).
        for process in procs:
            servers.stop(process)
        for e in editors:
            e.sio.reconnection = False
            with contextlib.suppress(Exception):  # best effort
                e.sio.disconnect()
        if truth is not None:
            truth.close()
        if pg_name:
            pg_admin(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--cps", type=float, default=6, help="characters typed a second by each editor")
    parser.add_argument("--processes", type=int, default=1, choices=[1, 2])
    parser.add_argument("--kill", action="store_true", help="kill -9 a server mid-run and restart it")
    parser.add_argument("--card", default="A", help="key of the demo card")
    parser.add_argument(
        "--quiet-timeout", type=float, default=60, help="seconds to wait for acks and convergence"
    )
    parser.add_argument(
        "--ack-timeout",
        type=float,
        default=20,
        help="re-join after an update waits this long for its ack (as the page)",
    )
    args = parser.parse_args()
    if args.editors < 2:
        parser.error("--editors must be at least 2")
    result = run(args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
