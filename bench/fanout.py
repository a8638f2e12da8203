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
        env = {
            "PDZ_DATABASE_URL": database_url,
            "PDZ_INSTANCE_DIR": str(work),
            "PDZ_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "PDZ_COMMENT_RATE_LIMIT": "1000000 per minute",  # the limit is for people, not for the bench
            "PDZ_LOGIN_RATE_LIMIT": "100000 per minute",
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
        }
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=1, choices=[1, 2, 3, 4])
    parser.add_argument("--interval-ms", type=float, default=100, help="time between two comments")
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_server:
        floor_server(args.floor_server)
        return
    result = run(args.clients, args.seconds, args.processes, args.interval_ms / 1000)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
