"""Helpers for the operations tests: a tiny SMTP server that accepts everything, one that never answers,
and a meeting of the Assemblea dei Sindaci convened through the pages (plain module: tests are no package)."""

from __future__ import annotations

import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

ASSEMBLEA = "Assemblea dei Sindaci (di Ambito)"


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: accepts every message and keeps each recipient it was sent to."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.port = int(self.server_address[1])
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> SmtpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _SmtpSession(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        recipients: list[str] = []
        while line := self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250 sink")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                with self.server.lock:  # type: ignore[attr-defined]
                    self.server.received.extend(recipients)  # type: ignore[attr-defined]
                recipients = []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RSET, NOOP
                self.reply("250 ok")


class SilentServer:
    """Accepts connections and never says a word: an SMTP client talking to it hangs until its timeout.
    Counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(200)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        for connection in self.accepted:
            connection.close()


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def convene(client: Any, body_id: int, title: str = "Assemblea di dicembre") -> Any:
    """Create a meeting with one agenda item and convene it: its members are mailed the convocation."""
    day = (date.today() + timedelta(days=20)).isoformat()
    response = client.post(
        f"/tavoli/{body_id}/incontri/nuovo",
        data={"title": title, "day": day, "start": "17:00", "end": "19:00", "place": "Crema"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    meeting_id = int(re.search(r"/incontri/(\d+)", response.location).group(1))
    agenda = client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Apertura"})
    assert agenda.status_code == 302
    return client.post(f"/incontri/{meeting_id}/convoca")
