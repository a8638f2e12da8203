"""The production command of the README (issue #13 point 5): gunicorn with the threaded worker serves the
pages and Socket.IO (websocket and long-polling) on a demo database, and in this single-process mode its
own mail thread sends the outbox."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from ops_support import SmtpSink, wait_for

from conftest import fast_close, free_port, http_session

ROOT = Path(__file__).resolve().parents[2]


class Gunicorn:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def production(templates: dict[str, str], tmp_path: Path, sink: SmtpSink) -> Iterator[tuple[Gunicorn, Path]]:
    """`gunicorn -k gthread -w 1 --threads 100 wsgi:app` as the README says, on a copy of the demo database."""
    database = tmp_path / "pdz.sqlite3"
    shutil.copy(templates["sqlite"], database)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PDZ_", "FLASK_"))}
    env.update(
        PDZ_DATABASE_URL=f"sqlite:///{database}",
        PDZ_INSTANCE_DIR=str(tmp_path / "instance"),
        PDZ_SECRET_KEY="production-test",
        PDZ_ARGON2_TIME_COST="1",
        PDZ_ARGON2_MEMORY_COST="1024",
        PDZ_SMTP_HOST="127.0.0.1",
        PDZ_SMTP_PORT=str(sink.port),
        PDZ_SMTP_STARTTLS="0",
        PDZ_BASE_URL=f"http://127.0.0.1:{port}",
    )
    command = [
        *(sys.executable, "-m", "gunicorn"),
        *("-k", "gthread", "-w", "1", "--threads", "100"),
        *("--bind", f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"),
    ]
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(port)
    try:

        def healthy() -> bool:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                return requests.get(server.url + "/healthz", timeout=5).status_code == 200
            except requests.RequestException:  # not listening yet, or still loading the app
                return False

        wait_for(healthy, timeout=60, what="gunicorn to answer /healthz")
        yield server, database
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_gunicorn_serves_pages_sockets_and_sends_mail_from_its_own_thread(
    production: tuple[Gunicorn, Path], sink: SmtpSink
) -> None:
    server, database = production

    health = requests.get(server.url + "/healthz", timeout=5)
    assert health.json() == {"status": "ok", "database": "ok", "redis": "not configured"}
    login_page = requests.get(server.url + "/login", timeout=5)
    assert login_page.status_code == 200 and "Accedi" in login_page.text

    with sqlite3.connect(database) as connection:
        [tavolo_id] = connection.execute("SELECT id FROM bodies WHERE name = 'Tavolo Povertà'").fetchone()
    session = http_session(server, "membro@example.org")  # type: ignore[arg-type]
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    for transports in (["websocket"], ["polling"]):
        client = socketio.Client(reconnection=False)
        client.connect(server.url, headers={"Cookie": cookie}, transports=transports, wait_timeout=10)
        try:
            answer: Any = client.call("room.join", {"room": f"tavolo:{tavolo_id}"}, timeout=10)
            assert answer["ok"] is True, (transports, answer)
        finally:
            fast_close(client)
            client.disconnect()

    # A password reset asked from the sign-in pages: the web process's own mail thread sends it.
    anonymous = requests.Session()
    form = anonymous.get(server.url + "/password/dimenticata", timeout=5).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form)
    assert token, form[:500]
    sent = anonymous.post(
        server.url + "/password/dimenticata",
        data={"csrf_token": token.group(1), "email": "osservatore@example.org"},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code in (200, 302)
    wait_for(
        lambda: "osservatore@example.org" in sink.received, what="the reset mail to reach the SMTP server"
    )
