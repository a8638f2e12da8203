"""Search latency on the demo multiplied (issue #16 point 1: p95 < 50 ms at x50).

Builds the demo at `--factor` (bench/scale.py's importable generator: build_demo/grow), rebuilds the search
index (grow() writes with bulk Core inserts, which the session hooks do not see: exactly what
`flask search-reindex` is for), then times GET /cerca in-process through the test client, for several
demo roles and a fixed list of Italian queries (single words, inflected words, two words, prefixes, a
rare word and a word nobody wrote). Times are whole requests: query, permission checks, page rendering.

    /work/main/.venv/bin/python bench/search.py                 # SQLite and PostgreSQL, x50
    /work/main/.venv/bin/python bench/search.py --factor 10 --backends sqlite --repeat 3
    /work/main/.venv/bin/python bench/search.py --database sqlite:////tmp/x50.sqlite3   # time a database already
                                          # built (build_demo) and indexed: no build, no reindex (iterating)

The last line is one JSON object: {"factor", "requests", "index_rows", "backends": {name: {"p50_ms",
"p95_ms", "max_ms", "build_s", "reindex_s"}}}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "platform"))

from scale import build_demo, database, sign_in  # noqa: E402

QUERIES = [
    "servizi",
    "servizio",
    "famiglie",
    "povertà",
    "anziani domiciliarità",
    "incontro",
    "verbale",
    "scuola",
    "abitare",
    "comune",
    "disabilità",
    "progetto",
    "serv",
    "cremasco",
    "coprogettazione",
    "xqzwvk",
]
ROLES = ["udp@example.org", "coord.pubblico@example.org", "membro@example.org", "sindaco@example.org"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(app: Any, repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Milliseconds of each GET /cerca: every role, every query, `repeat` rounds (after one warm-up each).
    `cpu` receives this process's CPU milliseconds of each request (SQLite's work included, PostgreSQL's
    not): a figure a loaded machine inflates much less than the wall clock."""
    clients = [sign_in(app, email) for email in ROLES]
    for client in clients:  # warm-up: connections, templates, statement caches
        assert client.get("/cerca", query_string={"q": "servizi"}).status_code == 200
    times: list[float] = []
    for _ in range(repeat):
        for client in clients:
            for query in QUERIES:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get("/cerca", query_string={"q": query})
                times.append((time.perf_counter() - started) * 1000)
                if cpu is not None:
                    cpu.append((time.process_time() - started_cpu) * 1000)
                assert response.status_code == 200, (query, response.status_code)
    return times


def summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
    }


def run(backend: str, factor: int, repeat: int, workdir: Path) -> dict[str, float]:
    from sqlalchemy import func, select

    from pdz.db import unit_of_work
    from pdz.extensions import db
    from pdz.search import index
    from pdz.search.models import SearchEntry

    with database(backend, f"pdz_search_x{factor}", workdir) as url:
        started = time.perf_counter()
        app = build_demo(factor, url, workdir)
        built = time.perf_counter() - started
        with app.app_context():
            started = time.perf_counter()
            with unit_of_work():
                index.rebuild(db.session)
            reindexed = time.perf_counter() - started
            rows = db.session.scalar(select(func.count()).select_from(SearchEntry)) or 0
            db.session.remove()
        print(
            f"{backend} x{factor}: built {built:.0f} s, index {rows} rows in {reindexed:.1f} s",
            file=sys.stderr,
        )
        times = measure(app, repeat)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        result = {
            **summary(times),
            "build_s": round(built, 1),
            "reindex_s": round(reindexed, 1),
            "index_rows": rows,
            "requests": len(times),
        }
        print(f"{backend} x{factor}: {json.dumps(result)}", file=sys.stderr)
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of every query for every role")
    parser.add_argument("--database", default="", help="an existing built and indexed database URL to time")
    args = parser.parse_args(argv)
    if args.database:
        from scale import make_app

        cpu: list[float] = []
        with tempfile.TemporaryDirectory(prefix="pdz_search_bench_") as tmp:
            times = measure(make_app(args.database, Path(tmp)), args.repeat, cpu)
        cpu_p = {f"cpu_{k}": v for k, v in summary(cpu).items()}
        print(json.dumps({"database": args.database, "requests": len(times), **summary(times), **cpu_p}))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="pdz_search_bench_") as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            results[backend] = run(backend, args.factor, args.repeat, Path(tmp))
    print(
        json.dumps({"factor": args.factor, "queries": len(QUERIES), "roles": len(ROLES), "backends": results})
    )


if __name__ == "__main__":
    main()
