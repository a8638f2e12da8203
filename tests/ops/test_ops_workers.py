"""The multi-worker production command (issue #17 point 3): gunicorn with two worker processes on one port,
sharing PostgreSQL and Redis, Socket.IO websocket-only. Both workers answer requests, and a live event sent
by a socket on one worker reaches a socket on the other (through Redis); long-polling, which would need
sticky sessions, is refused with a clear 400."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from bench import servers
from ops_support import wait_for

from conftest import POSTGRES, fast_close, free_port, fresh_database, http_session

REDIS_URL = os.environ.get("PDZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Server:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
def workers(templates: dict[str, str], run_dir: Path) -> Iterator[tuple[Server, Any, Path, str]]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("PDZ_REQUIRE_REDIS") == "1":
            pytest.fail(f"PDZ_REQUIRE_REDIS=1 but Redis is not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable")
    assert POSTGRES, "the multi-worker test needs PostgreSQL"
    with fresh_database("postgres", templates, run_dir) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PDZ_", "FLASK_"))}
        env.update(
            PDZ_DATABASE_URL=url,
            PDZ_REDIS_URL=REDIS_URL,
            PDZ_REDIS_CHANNEL=f"pdz-test-{uuid.uuid4().hex}",
            PDZ_SOCKET_TRANSPORTS="websocket",
            PDZ_SECRET_KEY="workers-" + uuid.uuid4().hex,
            PDZ_INSTANCE_DIR=str(run_dir / f"workers_{uuid.uuid4().hex[:6]}"),
            PDZ_ARGON2_TIME_COST="1",
            PDZ_ARGON2_MEMORY_COST="1024",
            PDZ_LOGIN_RATE_LIMIT="1000 per minute",
        )
        port = free_port()
        access = run_dir / f"access_{port}.log"
        master = servers.start_production(
            port, env, 2, 20, log=run_dir / f"gunicorn_{port}.log", access_log=access
        )
        try:
            yield Server(port), master, access, url
        finally:
            servers.stop(master)


def _worker_of(client: Any, server_port: int, pids: list[int]) -> int:
    """The worker process holding the server side of this client's websocket (Linux /proc)."""
    local_port = client.eio.ws.sock.getsockname()[1]
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            here, there = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
            if here == server_port and there == local_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker holds the socket from port {local_port}")


def _tavolo_id(database_url: str, name: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT id FROM bodies WHERE name = :n"), {"n": name}).scalar_one()
    engine.dispose()
    return int(found)


@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_answer_and_live_events_cross_between_them(
    workers: tuple[Server, Any, Path, str],
) -> None:
    server, master, access, database_url = workers
    port = int(server.url.rsplit(":", 1)[1])
    pids = servers.worker_pids(master.pid)
    assert len(pids) == 2

    # Both workers answer: concurrent requests on new connections until each worker has logged one.
    def both_answered() -> bool:
        threads = [
            threading.Thread(
                target=lambda: requests.get(
                    server.url + "/healthz", headers={"Connection": "close"}, timeout=10
                )
            )
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answered = {
            int(line.split(">")[0].lstrip("<"))
            for line in access.read_text().splitlines()
            if "/healthz 200" in line
        }
        return set(pids) <= answered

    wait_for(both_answered, timeout=60, what="both workers to answer /healthz")

    # Sockets of one signed-in member, opened a few at a time until one sits on each worker.
    cookie = "; ".join(f"{c.name}={c.value}" for c in http_session(server, "membro@example.org").cookies)  # type: ignore[arg-type]
    opened: list[Any] = []
    on_worker: dict[int, Any] = {}

    def connect() -> None:
        client = socketio.Client(reconnection=False)
        client.received = []  # type: ignore[attr-defined]
        client.on("*", lambda name, data, c=client: c.received.append((name, data)))
        client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        opened.append(client)

    def one_on_each_worker() -> bool:
        batch = [threading.Thread(target=connect) for _ in range(3)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
        for client in opened:
            on_worker.setdefault(_worker_of(client, port, pids), client)
        return len(on_worker) == 2

    try:
        wait_for(one_on_each_worker, timeout=60, what="a socket on each worker")
        first, second = (on_worker[pid] for pid in pids)
        body_id = _tavolo_id(database_url, "Tavolo Povertà")
        room = f"tavolo:{body_id}"
        for client in (first, second):
            assert client.call("room.join", {"room": room}, timeout=10)["ok"] is True
        for sender, receiver in ((first, second), (second, first)):
            answer = sender.call(
                "comment.create",
                {
                    "body_id": body_id,
                    "target_kind": "tavolo",
                    "target_id": body_id,
                    "text": "Da un worker all'altro",
                    "client_op_id": uuid.uuid4().hex,
                },
                timeout=10,
            )
            assert answer["ok"] is True, answer
            comment_id = answer["comment"]["id"]
            wait_for(
                lambda r=receiver, i=comment_id: any(
                    e == "comment.created" and d["comment"]["id"] == i for e, d in list(r.received)
                ),
                timeout=60,
                what="the comment to reach the socket on the other worker",
            )
    finally:
        for client in opened:
            fast_close(client)
            client.disconnect()

    # Long-polling would need sticky sessions: this setup refuses it plainly.
    polling = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=10)
    assert polling.status_code == 400
