"""Co-editing benchmark: N simulated editors save to one objective card at the same time.

Starts its own server (a subprocess on a free port, fresh SQLite database migrated with the demo loaded,
Flask-SocketIO in threading mode), signs in N editors, and lets each save to the same card repeatedly:
mostly its own field, sometimes the long field everybody shares. Editors only insert unique markers, so an
accepted save whose marker is missing from the final card is a lost edit. A separate observer socket
measures save -> visible latency; an empty authenticated request measured in the same run is the floor.

    /work/main/.venv/bin/python bench/coedit.py --seconds 10 --editors 20

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import sqlite3
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
import socketio

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIELD = "context"
OWN_FIELDS = [
    "general_objective",
    "target",
    "human_resources",
    "asst_analysis_note",
    "asst_implementation_note",
    "other_ambiti_note",
    "continuity_note",
    "new_service_note",
    "premial_note",
    "co_programmed_note",
    "ts_involvement",
    "other_actors_note",
    "needs",
    "need_kind_note",
    "nature_note",
    "innovative_note",
    "digital_note",
    "modes",
    "results",
    "impact",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Server:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = workdir / "bench.sqlite3"
        self.env = {
            **os.environ,
            "PDZ_INSTANCE_DIR": str(workdir),
            "PDZ_DATABASE_URL": f"sqlite:///{self.db_path}",
            "PDZ_LOGIN_RATE_LIMIT": "100000 per minute",
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
            "PDZ_SECRET_KEY": "bench-secret",
            "PYTHONPATH": str(ROOT / "platform"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def prepare(self) -> None:
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "demo"], cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        code = (
            "import logging; logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
            "from wsgi import app, socketio\n"
            f"socketio.run(app, host='127.0.0.1', port={self.port}, allow_unsafe_werkzeug=True, log_output=False)\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, args).fetchall()


def login(server: Server, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
    assert token, "no CSRF token on the login page"
    response = session.post(
        server.url + "/login",
        data={"csrf_token": token.group(1), "email": email, "password": "demo"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, f"login failed for {email}"
    return session


class Observer:
    """A separate client that records when each saved operation becomes visible."""

    def __init__(self, server: Server, email: str, card_id: int) -> None:
        session = login(server, email)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.seen: dict[str, float] = {}
        self.client = socketio.Client(reconnection=False)
        self.client.on("card.updated", self._on_update)
        self.client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        ack = self.client.call("room.join", {"room": f"card:{card_id}"}, timeout=10)
        assert ack and ack["ok"], ack

    def _on_update(self, data: dict[str, Any]) -> None:
        self.seen.setdefault(data.get("op", ""), time.perf_counter())


class Editor(threading.Thread):
    def __init__(
        self,
        index: int,
        server: Server,
        email: str,
        card_id: int,
        body_id: int,
        until: float,
        seed: int,
        pause: tuple[float, float],
    ) -> None:
        super().__init__(daemon=True)
        self.pause = pause
        self.index, self.server, self.card_id, self.body_id, self.until = (
            index,
            server,
            card_id,
            body_id,
            until,
        )
        self.rng = random.Random(seed)
        self.session = login(server, email)
        page = self.session.get(f"{server.url}/schede/{card_id}", timeout=10).text
        self.token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        revision = int(re.search(r'data-revision="(\d+)"', page).group(1))  # type: ignore[union-attr]
        self.base: dict[str, tuple[int, str]] = {}
        for field in [SHARED_FIELD, OWN_FIELDS[index % len(OWN_FIELDS)]]:
            match = re.search(rf'id="in-{field}"[^>]*>(.*?)</textarea>', page, re.S)
            import html as html_module

            self.base[field] = (revision, html_module.unescape(match.group(1)) if match else "")
        self.own = OWN_FIELDS[index % len(OWN_FIELDS)]
        self.sent: dict[str, float] = {}
        self.accepted: list[tuple[str, str]] = []  # (field, marker)
        self.accepted_ops: list[str] = []
        self.conflicts = 0
        self.merged = 0
        self.errors = 0
        self.saves = 0
        self.http_ms: list[float] = []

    def save(self, field: str, text: str, base_rev: int, base_value: str) -> dict[str, Any] | None:
        op = uuid.uuid4().hex
        payload = {
            "field": field,
            "value": text,
            "base_revision": base_rev,
            "base_value": base_value,
            "client_op_id": op,
            "body_id": self.body_id,
        }
        self.sent[op] = time.perf_counter()
        for _attempt in range(5):  # a retried save carries the same op id: applied once
            try:
                response = self.session.post(
                    f"{self.server.url}/schede/{self.card_id}/campi",
                    json=payload,
                    headers={"X-CSRFToken": self.token, "Accept": "application/json"},
                    timeout=10,
                )
            except requests.RequestException:
                time.sleep(0.2)
                continue
            self.saves += 1
            self.http_ms.append((time.perf_counter() - self.sent[op]) * 1000)
            data = response.json()
            data["_op"] = op
            data["_code"] = response.status_code
            return data
        self.errors += 1
        return None

    def run(self) -> None:
        number = 0
        while time.perf_counter() < self.until:
            time.sleep(self.rng.uniform(*self.pause))  # the page saves after each pause in typing
            field = SHARED_FIELD if self.rng.random() < 0.25 else self.own
            base_rev, base_text = self.base[field]
            words = base_text.split(" ") if base_text else []
            marker = f"E{self.index}N{number}X"
            number += 1
            position = self.rng.randint(0, len(words))
            mine = " ".join(words[:position] + [marker] + words[position:])
            data = self.save(field, mine, base_rev, base_text)
            if data is None:
                continue
            if data["_code"] == 200:
                self.accepted.append((field, marker))
                self.accepted_ops.append(data["_op"])
                self.merged += data["status"] == "merged"
                self.base[field] = (data["revision"], data["value"])
            elif data["_code"] == 409 and data.get("status") == "conflict":
                # The editor sees both versions and keeps both: their marker on top of the other text.
                self.conflicts += 1
                theirs = data["theirs"]
                words = theirs.split(" ")
                resolved = " ".join([*words, marker])
                again = self.save(field, resolved, data["revision"], theirs)
                if again and again["_code"] == 200:
                    self.accepted.append((field, marker))
                    self.accepted_ops.append(again["_op"])
                    self.base[field] = (again["revision"], again["value"])
                elif again and again["_code"] == 409:
                    self.conflicts += 1
                    self.base[field] = (again["revision"], again["theirs"])
            else:
                self.errors += 1


def floor_probe(server: Server, card_id: int, until: float, samples: list[float]) -> None:
    session = login(server, "udp@example.org")
    url = f"{server.url}/schede/{card_id}/versione"
    session.get(url, timeout=10)
    while time.perf_counter() < until:
        started = time.perf_counter()
        session.get(url, timeout=10)
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--card", default="A", help="key of the demo card to edit")
    parser.add_argument(
        "--pause",
        type=float,
        nargs=2,
        default=(0.7, 1.2),
        metavar=("MIN", "MAX"),
        help="seconds each editor waits between saves (the page saves 700 ms after typing stops)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pdz-bench-") as tmp:
        server = Server(Path(tmp))
        print("preparing database (migrate + demo)...", flush=True)
        server.prepare()
        card_id, body_id = server.query("SELECT id, body_id FROM cards WHERE key = ?", args.card)[0]
        writers = [
            row[0]
            for row in server.query(
                "SELECT DISTINCT users.email FROM memberships JOIN users ON users.id = memberships.user_id "
                "WHERE memberships.body_id = ? AND memberships.ended_at IS NULL AND memberships.role != 'osservatore' ORDER BY users.email",
                body_id,
            )
        ] + ["udp@example.org", "admin@example.org"]
        server.start()
        try:
            observer = Observer(server, "osservatore@example.org", card_id)
            until = time.perf_counter() + 3600
            editors = [
                Editor(
                    i,
                    server,
                    writers[i % len(writers)],
                    card_id,
                    body_id,
                    until,
                    seed=i,
                    pause=tuple(args.pause),
                )
                for i in range(args.editors)
            ]
            print(f"{args.editors} editors signed in, running {args.seconds:g}s...", flush=True)
            until = time.perf_counter() + args.seconds
            for editor in editors:
                editor.until = until
            floor: list[float] = []
            probe = threading.Thread(target=floor_probe, args=(server, card_id, until, floor), daemon=True)
            probe.start()
            for editor in editors:
                editor.start()
            for editor in editors:
                editor.join(timeout=args.seconds + 60)
            probe.join(timeout=30)
            time.sleep(1.0)  # let the last events arrive
            observer.client.disconnect()
        finally:
            server.stop()

        latencies: list[float] = []
        unseen = 0
        for editor in editors:
            for op in editor.accepted_ops:  # conflicts change nothing, so they publish nothing
                seen = observer.seen.get(op)
                if seen is None:
                    unseen += 1
                else:
                    latencies.append((seen - editor.sent[op]) * 1000)
        final = dict(server.query("SELECT key, value_source FROM card_values WHERE card_id = ?", card_id))
        revision_texts = [
            row[0] for row in server.query("SELECT after FROM card_revisions WHERE card_id = ?", card_id)
        ]
        lost = [
            (field, marker)
            for editor in editors
            for field, marker in editor.accepted
            if marker not in final.get(field, "")
        ]
        lost_nowhere = [m for _f, m in lost if not any(m in t for t in revision_texts)]
        conflict_rows = server.query("SELECT COUNT(*) FROM card_conflicts WHERE card_id = ?", card_id)[0][0]
        p50 = statistics.median(latencies) if latencies else float("nan")
        floor_p50 = statistics.median(floor) if floor else float("nan")
        result = {
            "editors": args.editors,
            "seconds": args.seconds,
            "pause_s": list(args.pause),
            "backend": "sqlite",
            "saves": sum(e.saves for e in editors),
            "accepted": sum(len(e.accepted) for e in editors),
            "merged": sum(e.merged for e in editors),
            "conflicts": sum(e.conflicts for e in editors),
            "conflicts_recorded": conflict_rows,
            "errors": sum(e.errors for e in editors),
            "lost_edits": len(lost_nowhere),
            "missing_from_final_text": len(lost),
            "not_seen_by_observer": unseen,
            "p50_ms": round(p50, 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "save_http_p50_ms": round(
                statistics.median([m for e in editors for m in e.http_ms] or [float("nan")]), 2
            ),
            "floor_p50_ms": round(floor_p50, 2),
            "ratio_p50": round(p50 / floor_p50, 2) if floor else None,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
