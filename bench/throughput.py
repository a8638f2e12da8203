"""Throughput of the production setup: the card page at 1, 8 and 32 concurrent clients, `/healthz` as the floor.

    .venv/bin/python bench/throughput.py                          # ~2 minutes
    .venv/bin/python bench/throughput.py --soak                   # + 5 minutes of steady load: RSS growth
    .venv/bin/python bench/throughput.py --soak --soak-seconds 30 # a short check of the soak

Builds a fresh PostgreSQL database with the demo and a private Redis channel, then starts the production
command of the README ("Operare PdZ", `bench/servers.production_command`): gunicorn with the threaded worker,
`--workers` processes (default 2, one per core), PostgreSQL and Redis shared, Socket.IO websocket-only.
Each client is one keep-alive HTTP connection of a signed-in co-coordinator asking for a card of Tavolo
Povertà (the page `bench/scale.py` measures as "card") as fast as it is answered, for `--seconds` per level;
`/healthz` is measured at the same levels in the same run (the floor: a request that does almost nothing).
Then the same load at 8 clients on the single-process command (`-w 1`): `single_process_rps_8`, and
`speedup_8` = rps at 8 clients on the workers / on one process. With `--soak`, 8 clients load the workers
for `--soak-seconds` (default 300) and the resident memory of the master and workers is sampled every
second: `rss_growth_mb` is the mean of the last fifth of the samples minus the mean of the second fifth
(the first fifth is warm-up).

The load generator runs on the same 2 cores (plain http.client threads, no `requests`, to keep it light).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from bench import servers  # noqa: E402
from bench.fanout import PG_ADMIN_URL, REDIS_URL, free_port, pg_admin, prepare_database, server_env  # noqa: E402

ACCOUNT = "coord.pubblico@example.org"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def card_path(database_url: str) -> str:
    """The card of Tavolo Povertà that bench/scale.py opens (first demo card with a key)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        card = connection.execute(
            text(
                "SELECT cards.id FROM cards JOIN bodies ON bodies.id = cards.body_id"
                " WHERE bodies.name = 'Tavolo Povertà' AND cards.key IS NOT NULL ORDER BY cards.id LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    return f"/schede/{card}"


CLOSE = False  # --new-connections: one connection per request (nginx without upstream keepalive)


def load(port: int, path: str, cookie: str, clients: int, seconds: float) -> dict[str, float]:
    """`clients` threads, each one keep-alive connection (or, with CLOSE, a new connection per request) asking
    for `path` back to back for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {
            "Cookie": cookie,
            "Accept-Encoding": "identity",
            **({"Connection": "close"} if CLOSE else {}),
        }
        mine = latencies[index]
        start.wait()
        while True:
            began = time.perf_counter()
            if began >= stop_at[0]:
                break
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if ok and CLOSE:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if ok:
                mine.append(time.perf_counter() - began)
            else:
                errors[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for mine in latencies for x in mine)
    if not every:
        return {"rps": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "requests": 0, "errors": sum(errors)}
    return {
        "rps": round(len(every) / elapsed, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1),
        "p99_ms": round(every[min(len(every) - 1, int(len(every) * 0.99))] * 1000, 1),
        "requests": len(every),
        "errors": sum(errors),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def soak(port: int, path: str, cookie: str, pids: list[int], seconds: float) -> dict[str, Any]:
    """8 clients for `seconds` while the processes' RSS is sampled every second."""
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            samples.append(servers.rss_mb(pids))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = load(port, path, cookie, 8, seconds)
    done.set()
    sampler.join()
    fifth = max(1, len(samples) // 5)
    warm = samples[fifth : 2 * fifth] or samples[:1]
    last = samples[-fifth:]
    return {
        "seconds": seconds,
        "rps": result["rps"],
        "p99_ms": result["p99_ms"],
        "errors": result["errors"],
        "rss_start_mb": round(statistics.mean(warm), 1),
        "rss_end_mb": round(statistics.mean(last), 1),
        "rss_growth_mb": round(statistics.mean(last) - statistics.mean(warm), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level and page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--soak", action="store_true", help="also a steady load, RSS sampled")
    parser.add_argument("--soak-seconds", type=float, default=300.0)
    parser.add_argument(
        "--new-connections",
        action="store_true",
        help="a new connection per request, as nginx opens them without upstream keepalive: the kernel then"
        " hands each request to whichever worker accepts first (with keep-alive a client stays on one worker)",
    )
    args = parser.parse_args()
    global CLOSE
    CLOSE = args.new_connections
    levels = [int(x) for x in args.clients.split(",")]

    import redis

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()  # the multi-worker setup needs Redis
    name = f"pdz_throughput_{uuid.uuid4().hex[:8]}"
    base_url = PG_ADMIN_URL.rsplit("/", 1)[0]
    database_url = f"{base_url}/{name}"
    pg_admin(f"CREATE DATABASE {name}")
    work = Path(tempfile.mkdtemp(prefix="pdz-throughput-"))
    result: dict[str, Any] = {
        "backend": "postgres",
        "workers": args.workers,
        "threads": args.threads,
        "connections": "new per request" if CLOSE else "keep-alive",
    }
    try:
        log(f"building the demo in {name}")
        prepare_database(database_url, work / "prepare")
        path = card_path(database_url)
        env = {
            **server_env(database_url, work),
            "PDZ_REDIS_URL": REDIS_URL,
            "PDZ_REDIS_CHANNEL": f"pdz-throughput-{uuid.uuid4().hex}",
            "PDZ_SOCKET_TRANSPORTS": "websocket",
            "PDZ_RATE_LIMIT_STORAGE": REDIS_URL,
        }
        rps: dict[str, float] = {}
        p99: dict[str, float] = {}
        p50: dict[str, float] = {}
        floor_rps: dict[str, float] = {}
        floor_p99: dict[str, float] = {}
        errors = 0

        port = free_port()
        log(f"starting gunicorn -w {args.workers} --threads {args.threads} on port {port}")
        master = servers.start_production(port, env, args.workers, args.threads, log=work / "multi.log")
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = "; ".join(f"{c.name}={c.value}" for c in servers.sign_in(base, ACCOUNT).cookies)
            load(port, path, cookie, max(levels), 3)  # warm-up: every worker's pools and caches
            workers = servers.worker_pids(master.pid)
            shares: dict[str, list[float]] = {}
            for clients in levels:
                before = [cpu_seconds(pid) for pid in workers]
                card = load(port, path, cookie, clients, args.seconds)
                shares[str(clients)] = [
                    round(cpu_seconds(p) - b, 2) for p, b in zip(workers, before, strict=True)
                ]
                floor = load(port, "/healthz", "", clients, args.seconds)
                log(f"  {clients} clients: card {card}, healthz {floor}")
                rps[str(clients)], p99[str(clients)], p50[str(clients)] = (
                    card["rps"],
                    card["p99_ms"],
                    card["p50_ms"],
                )
                floor_rps[str(clients)], floor_p99[str(clients)] = floor["rps"], floor["p99_ms"]
                errors += int(card["errors"] + floor["errors"])
            if args.soak:
                pids = [master.pid, *servers.worker_pids(master.pid)]
                log(f"soak: 8 clients for {args.soak_seconds:.0f} s, RSS of pids {pids}")
                result["soak"] = soak(port, path, cookie, pids, args.soak_seconds)
                log(f"  {result['soak']}")
        finally:
            servers.stop(master)

        port = free_port()
        log(f"starting gunicorn -w 1 --threads {args.threads} on port {port}")
        single = servers.start_production(port, env, 1, args.threads, log=work / "single.log")
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = "; ".join(f"{c.name}={c.value}" for c in servers.sign_in(base, ACCOUNT).cookies)
            load(port, path, cookie, 8, 3)
            one = load(port, path, cookie, 8, args.seconds)
            log(f"  single process, 8 clients: {one}")
            errors += int(one["errors"])
        finally:
            servers.stop(single)

        result.update(
            page=path,
            seconds=args.seconds,
            rps=rps,
            p99_ms=p99,
            p50_ms=p50,
            healthz_rps=floor_rps,
            healthz_p99_ms=floor_p99,
            worker_cpu_s=shares,  # CPU seconds each worker spent on the card page at each level: the balance
            single_process_rps_8=one["rps"],
            single_process_p99_ms_8=one["p99_ms"],
            speedup_8=round(rps["8"] / one["rps"], 2) if "8" in rps and one["rps"] else None,
            rss_growth_mb=result.get("soak", {}).get("rss_growth_mb"),
            errors=errors,
            load_average=[round(x, 2) for x in os.getloadavg()],
        )
    finally:
        try:
            pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except Exception as error:  # noqa: BLE001 - the result matters more than the clean-up
            log(f"could not drop {name}: {error}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
