"""Mail that cannot be sent (issue #13 point 1): marked "non inviata" with its reason shown to the UdP, the
other messages still go, and the request that sent them never answers 500. The request only queues the
messages; the mail worker (`flask --app wsgi mail-worker --once`) sends them."""

from __future__ import annotations

import html
import re
import socketserver
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import free_port


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: accepts every message and keeps its recipients."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[str] = []
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.port = int(self.server_address[1])


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
                self.server.received.extend(recipients)  # type: ignore[attr-defined]
                recipients = []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RSET, NOOP
                self.reply("250 ok")


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """SMTP on: the test's sink when it has one, else a port where nobody listens. One attempt per message,
    so that a message that cannot be sent is marked failed at once (retries: tests/ops)."""
    port = request.getfixturevalue("sink").port if "sink" in request.fixturenames else free_port()
    return {
        "PDZ_SMTP_HOST": "127.0.0.1",
        "PDZ_SMTP_PORT": port,
        "PDZ_SMTP_STARTTLS": False,
        "PDZ_MAIL_MAX_ATTEMPTS": 1,
    }


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _convene(client: Any, body_id: int) -> Any:
    day = (date.today() + timedelta(days=20)).isoformat()
    response = client.post(
        f"/tavoli/{body_id}/incontri/nuovo",
        data={"title": "Incontro di maggio", "day": day, "start": "17:00", "end": "19:00", "place": "Crema"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    meeting_id = int(re.search(r"/incontri/(\d+)", response.location).group(1))
    assert (
        client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Apertura"}).status_code
        == 302
    )
    return client.post(f"/incontri/{meeting_id}/convoca")


def _send_outbox(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["mail-worker", "--once"])
    assert result.exit_code == 0, result.output


def _messages(db: Any, since_id: int) -> list[Any]:
    from pdz.mail import OutboxMessage

    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > since_id)))


def _last_id(db: Any) -> int:
    from sqlalchemy import func

    from pdz.mail import OutboxMessage

    return db.session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))


def test_a_message_the_mail_library_refuses_fails_alone_and_says_why(
    app: Any, db: Any, client_as: Any, tavolo: Any, user: Any, sink: SmtpSink
) -> None:
    from pdz.mail import MailStatus

    member = user("membro@example.org")
    member.email = "membro@example.org\r\nBcc: everyone@example.org"  # legacy data the email library refuses
    db.session.commit()
    before = _last_id(db)

    response = _convene(client_as("coord.pubblico@example.org"), tavolo.id)
    _send_outbox(app)

    assert response.status_code == 302
    messages = _messages(db, before)
    broken = [m for m in messages if "\n" in m.to]
    others = [m for m in messages if "\n" not in m.to]
    assert len(broken) == 1 and broken[0].status == MailStatus.FAILED
    assert len(others) >= 5 and {m.status for m in others} == {MailStatus.SENT}
    assert sorted(sink.received) == sorted(m.to for m in others)
    page = html.unescape(client_as("udp@example.org").get("/admin/posta").get_data(as_text=True))
    shown = re.findall(r'data-testid="mail-failure">([^<]*)<', page)
    assert len(shown) == 1 and "ValueError" in shown[0] and "Motivo" in shown[0]


def test_an_unreachable_mail_server_marks_every_message_failed_and_the_page_still_answers(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    from pdz.mail import MailStatus

    before = _last_id(db)
    response = _convene(client_as("coord.pubblico@example.org"), tavolo.id)
    _send_outbox(app)

    assert response.status_code == 302
    messages = _messages(db, before)
    assert messages and {m.status for m in messages} == {MailStatus.FAILED}
    page = client_as("udp@example.org").get("/admin/posta").get_data(as_text=True)
    assert page.count('data-testid="mail-failure"') == len(messages)
    assert "ConnectionRefusedError" in page
