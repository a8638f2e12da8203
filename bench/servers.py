"""Start and stop real server processes (bench/serve.py) for the benchmark and the multi-process test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]


def start(
    port: int, env: dict[str, str], log: Path | None = None, *, healthy: bool = True
) -> subprocess.Popen[Any]:
    """Start bench/serve.py on `port` with PDZ_* settings in `env`; return once /healthz answers 200 (or,
    with `healthy=False`, answers at all: a process restarted while Redis is down says 503 until it is back)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "serve.py"), "--port", str(port)],
        env={**os.environ, **env},
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=str(ROOT),
    )
    deadline = time.monotonic() + 120  # generous: the tests start these on loaded cores too
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"server on port {port} exited ({process.returncode}): {tail}")
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            if answer.ok or (not healthy and answer.status_code == 503):
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start")


def production_command(
    port: int, workers: int, threads: int = 50, access_log: Path | None = None
) -> list[str]:
    """The production command of the README ("Operare PdZ"): gunicorn, threaded worker, `workers` processes.

    With more than one worker the processes share PostgreSQL and Redis, and Socket.IO is websocket-only
    (PDZ_SOCKET_TRANSPORTS=websocket): see docs/realtime.md. `access_log` records the pid of the worker
    that answered each request (used by the multi-worker test)."""
    command = [
        *(sys.executable, "-m", "gunicorn", "-k", "gthread"),
        *("-w", str(workers), "--threads", str(threads)),
        *("--bind", f"127.0.0.1:{port}", "--no-control-socket"),
    ]
    if access_log is not None:
        command += ["--access-logfile", str(access_log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"]
    return [*command, "wsgi:app"]


def start_production(
    port: int,
    env: dict[str, str],
    workers: int,
    threads: int = 50,
    log: Path | None = None,
    access_log: Path | None = None,
) -> subprocess.Popen[Any]:
    """Start the production command on `port` (PDZ_* settings in `env`); return once /healthz answers 200."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        production_command(port, workers, threads, access_log),
        env={**os.environ, **env},
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=str(ROOT),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"gunicorn on port {port} exited ({process.returncode}): {tail}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"gunicorn on port {port} did not start")


def worker_pids(master: int) -> list[int]:
    """The worker processes of a gunicorn master (Linux /proc)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes together, in MB (Linux /proc)."""
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# (base url, e-mail) -> trusted-device cookie: the demo's staff type a TOTP code once, then PdZ remembers the
# benchmark's "browser" (a code is never accepted twice, and one run signs the same person in several times).
_TRUSTED: dict[tuple[str, str], str] = {}


def sign_in(base: str, email: str) -> requests.Session:
    """A demo account's requests session signed in through the real forms (CSRF token included), second
    factor too."""
    import re

    import pyotp

    from pdz.accounts.demo import DEMO_TOTP_SECRET
    from pdz.accounts.second_factor import DEVICE_COOKIE
    from pdz.demo import DEMO_PASSWORD

    session = requests.Session()

    def post(url: str, data: dict[str, str]) -> requests.Response:
        page = session.get(url, timeout=30)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
        assert token, f"no CSRF token on {url}"
        return session.post(
            url, data={"csrf_token": token.group(1), **data}, allow_redirects=False, timeout=30
        )

    host = base.split("//", 1)[-1].split(":", 1)[0].split("/", 1)[0]
    if (base, email) in _TRUSTED:
        session.cookies.set(DEVICE_COOKIE, _TRUSTED[base, email], domain=host, path="/login")
    answer = post(base + "/login", {"email": email, "password": DEMO_PASSWORD})
    if answer.status_code == 302 and answer.headers["Location"].endswith("/login/codice"):
        code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
        answer = post(base + "/login/codice", {"code": code, "remember": "y"})
        if session.cookies.get(DEVICE_COOKIE):
            _TRUSTED[base, email] = str(session.cookies.get(DEVICE_COOKIE))
    assert answer.status_code == 302, f"login failed for {email}: {answer.status_code}"
    return session
