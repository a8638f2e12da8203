"""Approval-chain benchmark: do the pages stay as fast with many frozen documents, and how long a vote takes.

Starts its own server (bench/serve.py through bench/servers.py, on a fresh SQLite database with the demo;
people sign in through bench/servers.sign_in, demo second factor included), then, for growing numbers of
approved submissions (copies of the demo's, inserted directly), measures the median time of: the public list,
a submission page, the approvals overview and the home page ("Da fare") of the UdP, the verification of an
uploaded DOCX; an empty authenticated request measured in the same run is the floor. Then 48 comuni vote at
once on one ballot (one request each, in parallel) and the chair closes it: the time to take all votes and to
close (tally, minutes) is printed with the floor.

    /work/main/.venv/bin/python bench/approvals.py --sizes 0 300 1500 --repeat 15

The last line of output is one JSON object: `ratio_*` are medians divided by the floor's median; pages that do
not grow with the data keep roughly the same ratio at every size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from bench import servers  # noqa: E402 - the server harness shared by the benchmarks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server process (bench/serve.py) on a fresh SQLite database holding the demo."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = workdir / "bench.sqlite3"
        self.env = {
            "PDZ_INSTANCE_DIR": str(workdir),
            "PDZ_DATABASE_URL": f"sqlite:///{self.db_path}",
            "PDZ_LOGIN_RATE_LIMIT": "100000 per minute",
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
            "PDZ_SECRET_KEY": "bench-secret",
        }
        self.process: subprocess.Popen[Any] | None = None

    def prepare(self) -> None:
        """Migrate the database and load the demo (`flask --app wsgi demo`)."""
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "demo"],
            cwd=ROOT,
            env={**os.environ, **self.env},
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.process = servers.start(self.port, self.env, log=self.workdir / "server.log")

    def stop(self) -> None:
        if self.process is not None:
            servers.stop(self.process)
            self.process = None

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, args).fetchall()


def login(server: Server, email: str) -> requests.Session:
    """A demo account signed in through the real forms (the demo's staff also type their TOTP code)."""
    return servers.sign_in(server.url, email)


def timed(session: requests.Session, method: str, url: str, repeat: int, **kwargs: Any) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = session.request(method, url, timeout=60, **kwargs)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 303), (url, response.status_code)
    return statistics.median(samples)


def pile_up(server: Server, n: int) -> None:
    """n more approved card submissions (copies of one of the demo's, with new document ids)."""
    if n <= 0:
        return
    rows = server.query("select id, max(document_id) from submissions where status = 'approvata'")
    model_id = rows[0][0]
    top = server.query("select coalesce(max(document_id), 0) from submissions")[0][0]
    with sqlite3.connect(server.db_path) as connection:
        columns = [r[1] for r in connection.execute("pragma table_info(submissions)") if r[1] != "id"]
        listed = ", ".join(columns)
        chosen = ", ".join(f"{top} + 100000 + k.value" if c == "document_id" else c for c in columns)
        connection.execute(
            f"insert into submissions ({listed}) select {chosen} from submissions, "  # noqa: S608 - bench data
            f"(with recursive k(value) as (select 1 union all select value + 1 from k where value < {n}) "
            f"select value from k) as k where submissions.id = {model_id}"
        )


def token(session: requests.Session, url: str) -> str:
    found = re.search(
        r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', session.get(url, timeout=30).text
    )
    assert found, url
    return found.group(1)


def vote_round(server: Server) -> dict[str, float]:
    """The whole Assemblea present and voting at once on one ballot, then the chair closes it."""
    udp = login(server, "udp@example.org")
    sub_id = server.query(
        "select id from submissions where status = 'in_attesa_di_voto' order by id limit 1"
    )[0][0]
    meeting_id = server.query(
        "select m.id from meetings m join bodies b on b.id = m.body_id where b.kind = 'assemblea_sindaci' "
        "and m.status = 'convocata' order by m.starts_at limit 1"
    )[0][0]
    page = f"{server.url}/approvazioni/{sub_id}"
    udp.post(f"{page}/iscrivi", data={"meeting_id": meeting_id, "csrf_token": token(udp, page)}, timeout=30)
    meeting = f"{server.url}/incontri/{meeting_id}"
    udp.post(f"{meeting}/avvia", data={"csrf_token": token(udp, meeting)}, timeout=30)
    ballot_id = server.query(
        "select id from ballots where submission_id = ? and status = 'da_aprire'", sub_id
    )[0][0]
    code = server.query("select checkin_code from meetings where id = ?", meeting_id)[0][0]
    voters = [
        row[0]
        for row in server.query(
            "select u.email from users u join memberships ms on ms.user_id = u.id join bodies b on b.id = ms.body_id "
            "where b.kind = 'assemblea_sindaci' and ms.ended_at is null and ms.role in ('membro', 'delegato')"
        )
    ]
    sessions = [login(server, email) for email in voters]
    for session in sessions:
        session.post(
            f"{meeting}/registrazione", data={"code": code, "csrf_token": token(session, meeting)}, timeout=30
        )
    ballot = f"{server.url}/votazioni/{ballot_id}"
    udp.post(f"{ballot}/apri", data={"csrf_token": token(udp, ballot)}, timeout=30)
    tokens = [token(session, ballot) for session in sessions]
    barrier = threading.Barrier(len(sessions))

    def vote(session: requests.Session, csrf: str) -> None:
        barrier.wait()
        session.post(
            f"{ballot}/voto",
            data={"choice": "favorevole", "csrf_token": csrf},
            allow_redirects=False,
            timeout=60,
        )

    start = time.perf_counter()
    threads = [threading.Thread(target=vote, args=pair) for pair in zip(sessions, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_votes = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    udp.post(f"{ballot}/chiudi", data={"csrf_token": token(udp, ballot)}, allow_redirects=False, timeout=60)
    close = (time.perf_counter() - start) * 1000
    counted = server.query("select count(*) from votes where ballot_id = ?", ballot_id)[0][0]
    outcome = server.query("select outcome from ballots where id = ?", ballot_id)[0][0]
    return {
        "voters": len(sessions),
        "votes_counted": counted,
        "outcome": outcome,
        "all_votes_ms": round(all_votes, 1),
        "close_ms": round(close, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 300, 1500])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(Path(workdir))
        server.prepare()
        server.start()
        try:
            udp = login(server, "udp@example.org")
            anonymous = requests.Session()
            sub_id = server.query(
                "select id from submissions where status = 'approvata' order by id limit 1"
            )[0][0]
            docx = anonymous.get(f"{server.url}/pubblico/{sub_id}/documento.docx", timeout=60).content
            results: dict[str, Any] = {"sizes": []}
            added = 0
            for size in sorted(args.sizes):
                pile_up(server, size - added)
                added = size
                floor = timed(udp, "GET", f"{server.url}/healthz", args.repeat)
                row = {
                    "approved_added": size,
                    "floor_ms": round(floor, 2),
                    "public_list_ms": timed(anonymous, "GET", f"{server.url}/pubblico/", args.repeat),
                    "submission_ms": timed(udp, "GET", f"{server.url}/approvazioni/{sub_id}", args.repeat),
                    "overview_ms": timed(udp, "GET", f"{server.url}/approvazioni/", args.repeat),
                    "home_ms": timed(udp, "GET", f"{server.url}/", args.repeat),
                }
                csrf = token(anonymous, f"{server.url}/verifica")
                row["verify_docx_ms"] = timed(
                    anonymous,
                    "POST",
                    f"{server.url}/verifica",
                    max(3, args.repeat // 3),
                    data={"csrf_token": csrf},
                    files={"file": ("copia.docx", docx)},
                )
                for key in ("public_list", "submission", "overview", "home", "verify_docx"):
                    row[key + "_ms"] = round(row[key + "_ms"], 2)
                    row["ratio_" + key] = round(row[key + "_ms"] / floor, 1)
                print(json.dumps(row))
                results["sizes"].append(row)
            results["vote"] = vote_round(server)
            results["vote"]["floor_ms"] = results["sizes"][-1]["floor_ms"]
            print(json.dumps(results))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
