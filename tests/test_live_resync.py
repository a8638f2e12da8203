"""When Redis drops and comes back, the pages of every process are told to catch up (`live.resync`), and
catching up returns what was published meanwhile. Two real processes reach Redis through a line that the
test cuts for a few seconds (bench/netcut.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench import servers
from bench.netcut import Proxy
from tests.comments.test_comments_live import quick_websocket_close, scalar  # noqa: F401 - autouse fixture
from tests.comments.test_comments_redis import REDIS_URL, Server, _redis_up, connect, wait_for
from tests.conftest import free_port, fresh_database


@pytest.fixture
def cut_line_processes(
    templates: dict[str, str], run_dir: Path
) -> Iterator[tuple[Server, Server, str, Proxy]]:
    if not _redis_up():
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    host, _sep, rest = REDIS_URL.split("//", 1)[1].partition(":")
    port = int(rest.split("/", 1)[0] or 6379)
    proxy = Proxy(host, port)
    with fresh_database("postgres", templates, run_dir) as url:
        env = {
            "PDZ_DATABASE_URL": url,
            "PDZ_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
            "PDZ_REDIS_CHANNEL": f"pdz-test-{uuid.uuid4().hex}",
            "PDZ_SECRET_KEY": "resync-" + uuid.uuid4().hex,
            "PDZ_INSTANCE_DIR": str(run_dir / f"resync_{uuid.uuid4().hex[:6]}"),
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
            "PDZ_LOGIN_RATE_LIMIT": "1000 per minute",
        }
        ports = (first := free_port()), next(p for p in iter(free_port, None) if p != first)
        processes = []
        try:
            for p in ports:
                processes.append(servers.start(p, env, log=run_dir / f"resync_{p}.log"))
            yield Server(ports[0]), Server(ports[1]), url, proxy
        finally:
            for process in processes:
                servers.stop(process)
            proxy.close()


def comment(client: Any, body_id: int, text: str) -> dict[str, Any]:
    answer = client.call(
        "comment.create",
        {
            "body_id": body_id,
            "target_kind": "tavolo",
            "target_id": body_id,
            "text": text,
            "client_op_id": uuid.uuid4().hex,
        },
        timeout=10,
    )
    assert answer["ok"], answer
    return answer["comment"]


def live_ids(client: Any) -> list[int]:
    return [d["id"] for e, d in list(client.received) if e == "comment.created"]


@pytest.mark.redis
@pytest.mark.postgres
def test_pages_catch_up_after_redis_comes_back(cut_line_processes):
    a, b, database_url, proxy = cut_line_processes
    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    room = f"tavolo:{body_id}"
    poster, reader = connect(a, "coord.pubblico@example.org"), connect(b, "coord.ets@example.org")
    assert reader.call("room.join", {"room": room}, timeout=10)["ok"]
    before = comment(poster, body_id, "Prima dell'interruzione")
    wait_for(
        lambda: before["id"] in [d["comment"]["id"] for e, d in reader.received if e == "comment.created"]
    )
    last_seen = max(live_ids(reader))

    proxy.cut()  # Redis unreachable for both processes
    during = comment(poster, body_id, "Durante l'interruzione")  # stored, but its live message is lost
    proxy.restore()

    # Process B is back on Redis: it asks its pages to catch up, and catching up returns the lost comment.
    wait_for(lambda: any(e == "live.resync" for e, _ in reader.received), "live.resync")
    caught = reader.call("events.since", {"rooms": [room], "after": last_seen}, timeout=10)
    assert during["id"] in [e["comment"]["id"] for e in caught["events"] if e["name"] == "comment.created"]
    # And live messages flow again.
    after = comment(poster, body_id, "Dopo l'interruzione")
    wait_for(
        lambda: after["id"] in [d["comment"]["id"] for e, d in reader.received if e == "comment.created"]
    )
