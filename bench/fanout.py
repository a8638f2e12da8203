"""Fan-out benchmark: N Socket.IO clients in one tavolo, a comment every 100 ms, post -> receipt latency.

    /work/main/.venv/bin/python bench/fanout.py --clients 200 --seconds 10 --processes 1
    /work/main/.venv/bin/python bench/fanout.py --clients 200 --seconds 10 --processes 2   # PostgreSQL + Redis

Starts its own server process(es) (bench/serve.py) on a fresh database (SQLite for one process; a fresh
PostgreSQL database and a private Redis channel for two), connects the clients (demo members of Tavolo
Povertà, reused accounts; clients spread over the processes), posts through HTTP to the first process and
measures, for each client, the time from just before the POST to the arrival of `comment.created`.
`floor_p50_ms` is a bare python-socketio echo round trip measured in the same run on the same machine.
The clients are lean raw Engine.IO websockets read by one selector thread, so the bench measures the
server rather than 600 client threads. The comment rate limit is raised for the run (it is meant for
people). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from bench import servers  # noqa: E402

ACCOUNTS = [
    "membro@example.org",
    "coord.pubblico@example.org",
    "osservatore@example.org",
    "udp@example.org",
    "admin@example.org",
]
POSTER = "coord.ets@example.org"
PG_ADMIN_URL = os.environ.get("PDZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PDZ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- database ----------------------------------------------------------------------------------------


def prepare_database(url: str, instance: Path) -> int:
    """Migrate and load the demo into `url`; return the id of Tavolo Povertà."""
    os.environ["PDZ_INSTANCE_DIR"] = str(instance)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from pdz import create_app
    from pdz.db import unit_of_work
    from pdz.demo import load_demo
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "PDZ_ARGON2_TIME_COST": 1, "PDZ_ARGON2_MEMORY_COST": 1024}
    )
    with app.app_context():
        upgrade()
        with unit_of_work():
            load_demo()
        body_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        db.session.remove()
        db.engine.dispose()
    assert body_id is not None
    return int(body_id)


def server_env(database_url: str, work: Path) -> dict[str, str]:
    """The PDZ_* settings of the benchmark's server processes."""
    return {
        "PDZ_DATABASE_URL": database_url,
        "PDZ_INSTANCE_DIR": str(work),
        "PDZ_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "PDZ_COMMENT_RATE_LIMIT": "1000000 per minute",  # the limit is for people, not for the bench
        "PDZ_LOGIN_RATE_LIMIT": "100000 per minute",
        "PDZ_ARGON2_TIME_COST": "1",
        "PDZ_ARGON2_MEMORY_COST": "1024",
    }


def pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


# --- lean clients ------------------------------------------------------------------------------------


def login(base: str, email: str) -> requests.Session:
    return servers.sign_in(base, email)  # staff accounts also type the demo's TOTP code


def cookie_of(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


class RawClient:
    """One Engine.IO v4 websocket speaking just enough Socket.IO: connect, ack'd emit, events, pong."""

    def __init__(self, base: str, cookie: str) -> None:
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(
            url, header=[f"Cookie: {cookie}"], timeout=10, enable_multithread=True
        )
        opened = self.ws.recv()
        assert opened.startswith("0"), opened
        self.ws.send("40")
        while True:
            reply = self.ws.recv()
            if reply.startswith("40"):
                break
            if reply.startswith("44"):
                raise RuntimeError(f"socket refused: {reply}")
        self.next_ack = 0

    def call(self, event: str, data: Any) -> Any:
        ack = self.next_ack
        self.next_ack += 1
        self.ws.send(f"42{ack}" + json.dumps([event, data]))
        while True:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
            elif message.startswith(f"43{ack}"):
                return json.loads(message[len(f"43{ack}") :])[0]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort at the end of the run
            self.ws.close(timeout=0.1)


class Receiver(threading.Thread):
    """One thread reads every client's socket through a selector and timestamps `comment.created`."""

    def __init__(self, clients: list[RawClient]) -> None:
        super().__init__(daemon=True)
        self.clients = clients
        self.selector = selectors.DefaultSelector()
        for index, client in enumerate(clients):
            self.selector.register(client.ws.sock, selectors.EVENT_READ, index)
        self.arrivals: dict[tuple[int, int], float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            for key, _mask in self.selector.select(timeout=0.2):
                client = self.clients[key.data]
                try:
                    message = client.ws.recv()
                except (websocket.WebSocketException, OSError):
                    self.selector.unregister(key.fileobj)
                    continue
                now = time.perf_counter()
                if message == "2":
                    client.ws.send("3")
                elif message.startswith('42["comment.created"'):
                    payload = json.loads(message[2:])[1]
                    op_id = payload["comment"]["client_op_id"]
                    if op_id.startswith("bench-"):
                        self.arrivals.setdefault((key.data, int(op_id.split("-")[1])), now)


# --- floor: a bare python-socketio echo server -------------------------------------------------------


def floor_server(port: int) -> None:
    import socketio
    from werkzeug.serving import make_server

    sio = socketio.Server(async_mode="threading")

    @sio.on("echo")
    def echo(sid: str, data: Any) -> Any:
        return data

    make_server("127.0.0.1", port, socketio.WSGIApp(sio), threaded=True).serve_forever()


def measure_floor(rounds: int = 300) -> float:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--floor-server", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = RawClient(f"http://127.0.0.1:{port}", "")
                break
            except (OSError, websocket.WebSocketException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        samples = []
        for i in range(rounds):
            started = time.perf_counter()
            client.call("echo", {"n": i})
            samples.append((time.perf_counter() - started) * 1000)
        client.close()
        return statistics.median(samples[20:])
    finally:
        servers.stop(process)


# --- the run -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))] if ordered else 0.0


def run(clients_n: int, seconds: float, processes: int, interval: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="pdz-bench-"))
    pg_name = None
    if processes == 1:
        database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    else:
        pg_name = f"pdz_bench_{uuid.uuid4().hex[:10]}"
        pg_admin(f"CREATE DATABASE {pg_name}")
        database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_name
    procs: list[Any] = []
    clients: list[RawClient] = []
    try:
        log(f"preparing database {database_url}")
        body_id = prepare_database(database_url, work)
        env = server_env(database_url, work)
        if processes > 1:
            env.update({"PDZ_REDIS_URL": REDIS_URL, "PDZ_REDIS_CHANNEL": f"pdz-bench-{uuid.uuid4().hex}"})
        ports = [free_port() for _ in range(processes)]
        for port in ports:
            procs.append(servers.start(port, env, log=work / f"server_{port}.log"))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        log(f"servers up: {bases}")
        cookies = [cookie_of(login(bases[0], email)) for email in ACCOUNTS]
        room = f"tavolo:{body_id}"
        for i in range(clients_n):
            client = RawClient(bases[i % processes], cookies[i % len(cookies)])
            answer = client.call("room.join", {"room": room})
            assert answer.get("ok"), answer
            clients.append(client)
        log(f"{len(clients)} clients joined {room}")
        floor_p50 = measure_floor()
        receiver = Receiver(clients)
        receiver.start()
        poster = login(bases[0], POSTER)
        page = poster.get(f"{bases[0]}/tavoli/{body_id}/discussione")
        token_match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token_match, "no CSRF meta on the discussion page"
        headers = {"X-CSRFToken": token_match.group(1), "Accept": "application/json"}
        time.sleep(0.5)
        posted_at: dict[int, float] = {}
        post_ms: list[float] = []
        failures = 0
        started = time.perf_counter()
        seq = 0
        while time.perf_counter() - started < seconds:
            due = started + seq * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            t0 = time.perf_counter()
            response = poster.post(
                f"{bases[0]}/tavoli/{body_id}/commenti",
                json={
                    "target_kind": "tavolo",
                    "target_id": body_id,
                    "text": f"bench {seq}",
                    "client_op_id": f"bench-{seq:08d}",
                },
                headers=headers,
                timeout=10,
            )
            if response.status_code == 201:
                posted_at[seq] = t0
                post_ms.append((time.perf_counter() - t0) * 1000)
            else:
                failures += 1
                log(f"post {seq} failed: {response.status_code} {response.text[:200]}")
            seq += 1
        expected = len(posted_at) * len(clients)
        deadline = time.monotonic() + 5
        while len(receiver.arrivals) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        receiver.running = False
        receiver.join(timeout=2)
        latencies = [
            (at - posted_at[s]) * 1000 for (_c, s), at in list(receiver.arrivals.items()) if s in posted_at
        ]
        delivered = len(latencies)
        p50 = percentile(latencies, 0.50)
        return {
            "clients": len(clients),
            "processes": processes,
            "seconds": seconds,
            "sent": len(posted_at),
            "post_failures": failures,
            "delivered": delivered,
            "missed": expected - delivered,
            "p50_ms": round(p50, 2),
            "p90_ms": round(percentile(latencies, 0.90), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(max(latencies) if latencies else 0.0, 2),
            "floor_p50_ms": round(floor_p50, 2),
            "post_http_p50_ms": round(
                percentile(post_ms, 0.50), 2
            ),  # the POST alone (write + commit + fan-out)
            "post_http_p99_ms": round(percentile(post_ms, 0.99), 2),
            "ratio_p50": round(p50 / floor_p50, 1) if floor_p50 else None,
            "database": "postgresql" if processes > 1 else "sqlite",
            "redis": processes > 1,
        }
    finally:
        for client in clients:
            client.close()
        for process in procs:
            servers.stop(process)
        if pg_name:
            pg_admin(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


# --- chaos: pages that reconnect and catch up, a process killed, Redis cut ----------------------------

REPLAY_MARGIN = 50  # as static/js/comments.js, for a server that does not answer `as_of`


class LiveClient:
    """A page's connection: joins the room, applies each event once (by position), catches up with
    `events.since` on (re)join, on `live.resync` and on a heartbeat; reconnects when its socket drops."""

    def __init__(self, index: int, base: str, cookie: str, room: str) -> None:
        self.index, self.base, self.cookie, self.room = index, base, cookie, room
        self.ws: websocket.WebSocket | None = None
        self.sock: socket.socket | None = None  # the raw socket registered in the receiver's selector
        self.next_ack = 0
        self.callbacks: dict[int, Any] = {}
        self.last_id = 0
        self.synced_to = 0  # every event of the room up to here was received (the server's `as_of`)
        self.seen: set[int] = set()
        self.next_heartbeat = 0.0

    def handshake(self) -> None:
        """Open the websocket and the Socket.IO namespace (blocking, called off the receiver thread)."""
        url = self.base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = websocket.create_connection(
            url, header=[f"Cookie: {self.cookie}"], timeout=5, enable_multithread=True
        )
        opened = ws.recv()
        assert opened.startswith("0"), opened
        ws.send("40")
        while True:
            reply = ws.recv()
            if reply.startswith("40"):
                break
            if reply.startswith("44"):
                raise RuntimeError(f"socket refused: {reply}")
        ws.settimeout(5)
        self.ws = ws
        self.sock = ws.sock
        self.next_ack = 0
        self.callbacks = {}

    def emit(self, event: str, data: Any, callback: Any) -> None:
        assert self.ws is not None
        ack = self.next_ack
        self.next_ack += 1
        self.callbacks[ack] = callback
        self.ws.send(f"42{ack}" + json.dumps([event, data]))


class ChaosReceiver(threading.Thread):
    """One selector thread reads every page's socket; dropped sockets go to a reconnecting thread and come
    back through `returning`, are joined to the room again and catch up."""

    def __init__(self, clients: list[LiveClient], heartbeat: float) -> None:
        super().__init__(daemon=True)
        self.clients = clients
        self.heartbeat = heartbeat
        self.selector = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.returning: list[LiveClient] = []
        self.arrivals: dict[tuple[int, int], float] = {}
        self.comment_ids: dict[
            int, set[int]
        ] = {}  # bench seq -> comment ids seen (more than one: duplicated)
        self.redelivered = 0
        self.reconnects = 0
        self.resyncs = 0
        self.catchups = 0
        self.caught_up = 0  # events first received through a catch-up
        self.pending_catchups = 0
        self.running = True
        self.drop_queue: list[LiveClient] = []
        self.reconnector = threading.Thread(target=self._reconnect_loop, daemon=True)
        self.reconnector.start()
        now = time.perf_counter()
        for client in clients:
            client.next_heartbeat = now + heartbeat * (0.5 + client.index / max(1, len(clients)))
            self._attach(client)

    # connections ----------------------------------------------------------------------------------------

    def _attach(self, client: LiveClient) -> None:
        assert client.ws is not None and client.sock is not None
        stale = self.selector.get_map().get(client.sock.fileno())
        if stale is not None:  # a closed socket's number, reused by the new connection
            self.selector.unregister(stale.fileobj)
        self.selector.register(client.sock, selectors.EVENT_READ, client)
        client.emit("room.join", {"room": client.room}, lambda answer, c=client: self._joined(c, answer))

    def _joined(self, client: LiveClient, answer: Any) -> None:
        if isinstance(answer, dict) and answer.get("ok"):
            if not client.synced_to:  # the first join: the page starts following from here
                client.synced_to = int(answer.get("last_event_id") or 0)
            self.catch_up(client)

    def _dropped(self, client: LiveClient) -> None:
        if client.sock is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(client.sock)
            client.sock = None
        if client.ws is not None:
            with contextlib.suppress(Exception):
                client.ws.close(timeout=0)
            client.ws = None
        with self.lock:
            self.drop_queue.append(client)

    def drop(self, client: LiveClient) -> None:
        """Cut a page's connection from outside (as a phone losing its network for a moment)."""
        ws = client.ws
        if ws is not None and ws.sock is not None:
            with contextlib.suppress(OSError):
                ws.sock.shutdown(socket.SHUT_RDWR)

    def _reconnect_loop(self) -> None:
        while self.running:
            with self.lock:
                queue, self.drop_queue = self.drop_queue, []
            failed = []
            for client in queue:
                try:
                    client.handshake()
                except Exception:  # noqa: BLE001 - the process may be down: try again as a page would
                    failed.append(client)
                    continue
                self.reconnects += 1
                with self.lock:
                    self.returning.append(client)
            with self.lock:
                self.drop_queue[:0] = failed
            time.sleep(0.3 if failed or not queue else 0.02)

    # catch-up ----------------------------------------------------------------------------------------

    def catch_up(self, client: LiveClient) -> None:
        if client.ws is None:
            return
        self.catchups += 1
        self.pending_catchups += 1
        after = client.synced_to or max(0, client.last_id - REPLAY_MARGIN)
        try:
            client.emit(
                "events.since",
                {"rooms": [client.room], "after": after},
                lambda answer, c=client: self._replayed(c, answer),
            )
        except (websocket.WebSocketException, OSError):
            self.pending_catchups -= 1

    def _replayed(self, client: LiveClient, answer: Any) -> None:
        self.pending_catchups -= 1
        if not isinstance(answer, dict) or not answer.get("ok"):
            return
        events = answer.get("events") or []
        for event in events:
            self._apply(client, event, replayed=True)
        if isinstance(answer.get("as_of"), int):
            client.synced_to = max(client.synced_to, answer["as_of"])
        if len(events) >= 500:
            self.catch_up(client)

    def _apply(self, client: LiveClient, event: Any, replayed: bool = False) -> None:
        if not isinstance(event, dict) or event.get("name", "comment.created") != "comment.created":
            return
        position = event.get("id")
        if not isinstance(position, int):
            return
        if position in client.seen:
            self.redelivered += 1
            return
        client.seen.add(position)
        client.last_id = max(client.last_id, position)
        comment = event.get("comment") or {}
        op_id = str(comment.get("client_op_id") or "")
        if op_id.startswith("bench-"):
            seq = int(op_id.split("-")[1])
            self.comment_ids.setdefault(seq, set()).add(int(comment["id"]))
            if (client.index, seq) not in self.arrivals:
                self.arrivals[client.index, seq] = time.perf_counter()
                if replayed:
                    self.caught_up += 1

    # the loop ------------------------------------------------------------------------------------------

    def run(self) -> None:
        while self.running:
            try:
                self._turn()
            except Exception as error:  # noqa: BLE001 - a bench bug must show, not stop every page
                log(f"receiver: {error!r}")

    def _turn(self) -> None:
        with self.lock:
            returning, self.returning = self.returning, []
        for client in returning:
            try:
                self._attach(client)
            except (websocket.WebSocketException, OSError):
                self._dropped(client)
        for key, _mask in self.selector.select(timeout=0.1):
            client = key.data
            try:
                assert client.ws is not None
                message = client.ws.recv()
            except (websocket.WebSocketException, OSError, AssertionError):
                self._dropped(client)
                continue
            if not message:
                self._dropped(client)
                continue
            try:
                self._handle(client, message)
            except (websocket.WebSocketException, OSError):
                self._dropped(client)
        now = time.perf_counter()
        for client in self.clients:
            if client.ws is not None and now >= client.next_heartbeat:
                client.next_heartbeat = now + self.heartbeat
                self.catch_up(client)

    def _handle(self, client: LiveClient, message: str) -> None:
        assert client.ws is not None
        if message == "2":
            client.ws.send("3")
        elif message.startswith("42"):
            name, *rest = json.loads(message[2:])
            if name == "comment.created" and rest:
                self._apply(client, {"name": name, **rest[0]})
            elif name == "live.resync":
                self.resyncs += 1
                self.catch_up(client)
        elif message.startswith("43"):
            digits = ""
            for char in message[2:]:
                if not char.isdigit():
                    break
                digits += char
            callback = client.callbacks.pop(int(digits), None) if digits else None
            if callback is not None:
                callback(json.loads(message[2 + len(digits) :])[0])


class Poster(threading.Thread):
    """Posts a comment every `interval`; an attempt that fails (its process down) is retried with the same
    client operation id on the next process, as the page's outbox does: one comment whatever happens."""

    def __init__(
        self, number: int, bases: list[str], body_id: int, seqs: Any, interval: float, until: float
    ) -> None:
        super().__init__(daemon=True)
        self.number, self.bases, self.body_id = number, bases, body_id
        self.seqs, self.interval, self.until = seqs, interval, until
        self.posted_at: dict[int, float] = {}
        self.failures = 0
        self.retries = 0
        self.session = login(bases[0], POSTER)
        page = self.session.get(f"{bases[0]}/tavoli/{body_id}/discussione", timeout=30)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token, "no CSRF meta on the discussion page"
        self.headers = {"X-CSRFToken": token.group(1), "Accept": "application/json"}

    def run(self) -> None:
        started = time.perf_counter()
        beat = 0
        while True:
            due = started + beat * self.interval
            if due >= self.until:
                return
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            beat += 1
            seq = next(self.seqs)
            t0 = time.perf_counter()
            target = self.number + beat
            for attempt in range(60):
                base = self.bases[(target + attempt) % len(self.bases)]
                try:
                    response = self.session.post(
                        f"{base}/tavoli/{self.body_id}/commenti",
                        json={
                            "target_kind": "tavolo",
                            "target_id": self.body_id,
                            "text": f"bench {seq}",
                            "client_op_id": f"bench-{seq:08d}",
                        },
                        headers=self.headers,
                        timeout=5,
                    )
                    if response.status_code in (200, 201):
                        self.posted_at[seq] = t0
                        break
                    log(f"post {seq} answered {response.status_code}: {response.text[:200]}")
                except requests.RequestException:
                    pass
                self.retries += 1
                time.sleep(0.3)
            else:
                self.failures += 1


def run_chaos(
    clients_n: int,
    seconds: float,
    posters_n: int,
    interval: float,
    kill_process: bool,
    redis_outage: float,
    drops_per_s: float,
    heartbeat: float,
) -> dict[str, Any]:
    """Two processes on PostgreSQL and Redis; pages reconnecting at random, concurrent posters, and one
    process killed -9 then restarted and/or Redis cut for `redis_outage` seconds."""
    import itertools
    import random

    from bench.netcut import Proxy

    work = Path(tempfile.mkdtemp(prefix="pdz-bench-"))
    pg_name = f"pdz_bench_{uuid.uuid4().hex[:10]}"
    pg_admin(f"CREATE DATABASE {pg_name}")
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_name
    redis_host, redis_port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    proxy = Proxy(redis_host, int(redis_port))
    procs: list[Any] = []
    receiver: ChaosReceiver | None = None
    events: list[str] = []
    try:
        log(f"preparing database {database_url}")
        body_id = prepare_database(database_url, work)
        env = {
            **server_env(database_url, work),
            "PDZ_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
            "PDZ_REDIS_CHANNEL": f"pdz-bench-{uuid.uuid4().hex}",
        }
        ports = [free_port() for _ in range(2)]
        for port in ports:
            procs.append(servers.start(port, env, log=work / f"server_{port}.log"))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        cookies = [cookie_of(login(bases[0], email)) for email in ACCOUNTS]
        room = f"tavolo:{body_id}"
        clients = []
        for i in range(clients_n):
            client = LiveClient(i, bases[i % 2], cookies[i % len(cookies)], room)
            client.handshake()
            clients.append(client)
        receiver = ChaosReceiver(clients, heartbeat)
        receiver.start()
        deadline = time.monotonic() + 20
        while receiver.pending_catchups and time.monotonic() < deadline:
            time.sleep(0.05)
        log(f"{clients_n} pages joined {room} on {bases}")
        floor_p50 = measure_floor()
        started = time.perf_counter()
        until = started + seconds
        seqs = itertools.count()
        posters = [Poster(n, bases, body_id, seqs, interval * posters_n, until) for n in range(posters_n)]
        for poster in posters:
            poster.start()
        rng = random.Random(7)
        killed_at = seconds / 3
        outage_at = seconds / 4
        killed = outage_done = False
        cut = False
        next_drop = started + (rng.expovariate(drops_per_s) if drops_per_s else seconds * 10)
        while time.perf_counter() < until:
            now = time.perf_counter()
            if now >= next_drop:
                receiver.drop(rng.choice(clients))
                next_drop = now + rng.expovariate(drops_per_s)
            if kill_process and not killed and now - started >= killed_at:
                killed = True
                procs[1].kill()
                procs[1].wait()
                events.append(f"{now - started:.1f}s process 2 killed -9")
                log(events[-1])
                time.sleep(1.0)
                procs[1] = servers.start(
                    ports[1], env, log=work / f"server_{ports[1]}_again.log", healthy=not cut
                )
                events.append(f"{time.perf_counter() - started:.1f}s process 2 restarted")
                log(events[-1])
            if redis_outage and not cut and not outage_done and now - started >= outage_at:
                cut = True
                proxy.cut()
                events.append(f"{now - started:.1f}s Redis cut")
                log(events[-1])
            if cut and now - started >= outage_at + redis_outage:
                cut, outage_done = False, True
                proxy.restore()
                events.append(f"{now - started:.1f}s Redis back")
                log(events[-1])
            time.sleep(0.02)
        if cut:
            proxy.restore()
        for poster in posters:
            poster.join(timeout=60)
        posted_at = {seq: at for poster in posters for seq, at in poster.posted_at.items()}
        expected = len(posted_at) * clients_n
        # pages catch up by themselves (resync, heartbeat): wait for a heartbeat and a half at most
        settle = time.monotonic() + heartbeat * 1.5 + 5
        while time.monotonic() < settle:
            got = sum(1 for (_c, s) in list(receiver.arrivals) if s in posted_at)
            if got >= expected and not receiver.drop_queue:
                break
            time.sleep(0.1)
        got_live = sum(1 for (_c, s) in list(receiver.arrivals) if s in posted_at)
        receiver.running = False
        receiver.join(timeout=2)
        latencies = [
            (at - posted_at[s]) * 1000 for (_c, s), at in list(receiver.arrivals.items()) if s in posted_at
        ]
        duplicated = sum(len(ids) - 1 for ids in receiver.comment_ids.values())
        stored = count_bench_comments(database_url)
        return {
            "mode": "+".join(
                m for m, on in (("kill-process", kill_process), ("redis-outage", bool(redis_outage))) if on
            ),
            "clients": clients_n,
            "processes": 2,
            "posters": posters_n,
            "seconds": seconds,
            "sent": len(posted_at),
            "post_failures": sum(p.failures for p in posters),
            "post_retries": sum(p.retries for p in posters),
            "delivered": got_live,
            "missed": expected - got_live,
            "duplicated": duplicated,
            "stored_comments": stored,
            "redelivered_ignored": receiver.redelivered,
            "caught_up": receiver.caught_up,
            "reconnects": receiver.reconnects,
            "resync_messages": receiver.resyncs,
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "floor_p50_ms": round(floor_p50, 2),
            "heartbeat_s": heartbeat,
            "events": events,
            "database": "postgresql",
            "redis": True,
        }
    finally:
        if receiver is not None:
            receiver.running = False
            for client in receiver.clients:
                if client.ws is not None:
                    with contextlib.suppress(Exception):
                        client.ws.close(timeout=0.1)
        for process in procs:
            servers.stop(process)
        proxy.close()
        pg_admin(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


def count_bench_comments(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM comments WHERE client_op_id LIKE 'bench-%'")
        ).scalar_one()
    engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=1, choices=[1, 2, 3, 4])
    parser.add_argument("--interval-ms", type=float, default=100, help="time between two comments")
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    chaos = parser.add_argument_group("faults (two processes on PostgreSQL and Redis, pages that reconnect)")
    chaos.add_argument("--kill-process", action="store_true", help="kill -9 the second process, restart it")
    chaos.add_argument(
        "--redis-outage", type=float, nargs="?", const=10.0, default=0.0, help="cut Redis for S seconds"
    )
    chaos.add_argument("--posters", type=int, default=3, help="concurrent posters (fault modes)")
    chaos.add_argument("--drops-per-s", type=float, default=1.0, help="pages losing their connection")
    chaos.add_argument("--heartbeat", type=float, default=20.0, help="a page's periodic catch-up (s)")
    args = parser.parse_args()
    if args.floor_server:
        floor_server(args.floor_server)
        return
    if args.kill_process or args.redis_outage:
        seconds = max(args.seconds, args.redis_outage + 10)
        result = run_chaos(
            args.clients,
            seconds,
            args.posters,
            args.interval_ms / 1000,
            args.kill_process,
            args.redis_outage,
            args.drops_per_s,
            args.heartbeat,
        )
        print(json.dumps(result), flush=True)
        return
    result = run(args.clients, args.seconds, args.processes, args.interval_ms / 1000)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
