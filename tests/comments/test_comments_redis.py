"""Two real server processes on one PostgreSQL database, sharing live events through Redis."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from bench import servers
from tests.comments.test_comments_live import quick_websocket_close, remove_member, scalar  # noqa: F401 - autouse fixture
from tests.comments.test_comments_live import wait_for as _wait_for
from tests.conftest import POSTGRES, free_port, fresh_database, http_session

REDIS_URL = os.environ.get("PDZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("PDZ_REQUIRE_REDIS") == "1"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class Server:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def processes_on_redis(
    templates: dict[str, str], run_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[Server, Server, str, list[Path]]]:
    if not _redis_up():
        if REQUIRE_REDIS:
            pytest.fail(f"PDZ_REQUIRE_REDIS=1 but Redis is not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable")
    assert POSTGRES, "the multi-process test needs PostgreSQL"
    with fresh_database("postgres", templates, run_dir) as url:
        env = {
            "PDZ_DATABASE_URL": url,
            "PDZ_REDIS_URL": REDIS_URL,
            "PDZ_REDIS_CHANNEL": f"pdz-test-{uuid.uuid4().hex}",
            "PDZ_SECRET_KEY": "two-processes-" + uuid.uuid4().hex,  # shared: a cookie works on both
            "PDZ_INSTANCE_DIR": str(run_dir / f"proc_{uuid.uuid4().hex[:6]}"),
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
            "PDZ_LOGIN_RATE_LIMIT": "1000 per minute",
            **(extra_env or {}),
        }
        ports = (first := free_port()), next(p for p in iter(free_port, None) if p != first)
        processes = []
        try:
            for port in ports:
                processes.append(servers.start(port, env, log=run_dir / f"server_{port}.log"))
            yield Server(ports[0]), Server(ports[1]), url, [run_dir / f"server_{port}.log" for port in ports]
        finally:
            for process in processes:
                servers.stop(process)


@pytest.fixture
def two_processes(
    templates: dict[str, str], run_dir: Path
) -> Iterator[tuple[Server, Server, str, list[Path]]]:
    with processes_on_redis(templates, run_dir) as running:
        yield running


def print_logs(logs: list[Path]) -> None:
    """What the servers said (the end of each log), printed when a test fails."""
    for log in logs:
        print(
            f"--- {log.name} ---\n"
            + (log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)")
        )


def connect(server: Server, email: str) -> Any:
    session = http_session(server, email)  # type: ignore[arg-type]
    client = socketio.Client(reconnection=False)
    client.received = []  # type: ignore[attr-defined]
    client.on("*", lambda name, data: client.received.append((name, data)))  # type: ignore[attr-defined]
    client.connect(
        server.url,
        headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)},
        transports=["websocket"],
        wait_timeout=5,
    )
    client.http = session  # type: ignore[attr-defined]
    return client


def wait_for(predicate: Any, message: str = "condition") -> Any:
    return _wait_for(predicate, timeout=60, message=message)  # two processes and Redis on a busy machine


def created(client: Any) -> list[int]:
    return [d["comment"]["id"] for e, d in list(client.received) if e == "comment.created"]


@pytest.mark.redis
@pytest.mark.postgres
def test_a_comment_posted_on_one_process_reaches_pages_on_the_other(two_processes):
    a, b, database_url, logs = two_processes
    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    room = f"tavolo:{body_id}"
    coord_on_a, member_on_b = connect(a, "coord.ets@example.org"), connect(b, "membro@example.org")
    witness_on_b = connect(b, "coord.pubblico@example.org")  # stays in the tavolo, on the same process as B
    try:
        for client in (coord_on_a, member_on_b, witness_on_b):
            assert client.call("room.join", {"room": room}, timeout=5)["ok"]
        session: requests.Session = coord_on_a.http
        page = session.get(f"{a.url}/tavoli/{body_id}/discussione")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        posted = session.post(
            f"{a.url}/tavoli/{body_id}/commenti",
            json={
                "target_kind": "tavolo",
                "target_id": body_id,
                "text": "Dal processo A",
                "client_op_id": uuid.uuid4().hex,
            },
            headers={"X-CSRFToken": token, "Accept": "application/json"},
        )
        assert posted.status_code == 201, posted.text
        wait_for(
            lambda: posted.json()["comment"]["id"] in created(member_on_b), message="comment on process B"
        )
        answer = member_on_b.call(
            "comment.create",
            {
                "body_id": body_id,
                "target_kind": "tavolo",
                "target_id": body_id,
                "text": "Dal processo B",
                "client_op_id": uuid.uuid4().hex,
            },
            timeout=5,
        )
        wait_for(lambda: answer["comment"]["id"] in created(coord_on_a), message="comment on process A")

        # Removal on process A cuts the open socket on process B at once.
        remove_member(session, a.url, database_url, body_id, "membro@example.org")
        wait_for(
            lambda: any(e == "membership.ended" for e, _ in member_on_b.received),
            message="membership.ended on B",
        )
        wait_for(
            lambda: any(e == "room.revoked" and d == {"room": room} for e, d in member_on_b.received),
            message="room.revoked on B",
        )
        # Only the removed person leaves the room: the others are not disturbed, on either process.
        for client in (coord_on_a, witness_on_b):
            assert not any(e in {"room.closed", "room.revoked"} for e, _ in client.received)
        assert member_on_b.call("room.join", {"room": room}, timeout=5)["ok"] is False
        after = coord_on_a.call(
            "comment.create",
            {
                "body_id": body_id,
                "target_kind": "tavolo",
                "target_id": body_id,
                "text": "Dopo l'uscita",
                "client_op_id": uuid.uuid4().hex,
            },
            timeout=5,
        )
        wait_for(
            lambda: after["comment"]["id"] in created(witness_on_b), message="comment after removal on B"
        )
        assert after["comment"]["id"] not in created(member_on_b)
    except BaseException:
        print_logs(logs)
        raise
    finally:
        for client in (coord_on_a, member_on_b, witness_on_b):
            client.disconnect()
