"""The durable outbox (issue #13 point 5): requests only write messages, a worker sends them with retries
and exponential backoff, several workers never send one message twice, and no request waits for SMTP."""

from __future__ import annotations

import html
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from ops_support import ASSEMBLEA, SilentServer, SmtpSink, convene, wait_for
from sqlalchemy import func, select, update

from conftest import free_port


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


@pytest.fixture
def mail_settings() -> dict[str, Any]:
    """Extra mail configuration: a test changes it with `@pytest.mark.parametrize("mail_settings", [...])`."""
    return {}


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest, mail_settings: dict[str, Any]) -> dict[str, Any]:
    """SMTP on, at the test's silent server, else its sink, else a port where nobody listens."""
    if "silent" in request.fixturenames:
        port = request.getfixturevalue("silent").port
    elif "sink" in request.fixturenames:
        port = request.getfixturevalue("sink").port
    else:
        port = free_port()
    return {
        "PDZ_SMTP_HOST": "127.0.0.1",
        "PDZ_SMTP_PORT": port,
        "PDZ_SMTP_STARTTLS": False,
        "PDZ_SMTP_TIMEOUT": 2,
        **mail_settings,
    }


def configure(app: Any, **values: Any) -> None:
    """Change the configuration of the app under test and of its twin (whose context the test runs in, and
    which the CLI runner therefore uses)."""
    from flask import current_app

    app.config.update(values)
    current_app.config.update(values)


def _last_id(db: Any) -> int:
    from pdz.mail import OutboxMessage

    return int(db.session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0))))


def _since(db: Any, last_id: int) -> list[Any]:
    from pdz.mail import OutboxMessage

    db.session.expire_all()
    messages = list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > last_id).order_by(OutboxMessage.id))
    )
    db.session.commit()  # end the read: the worker writes next
    return messages


def _assemblea_members(db: Any, body: Any) -> set[str]:
    from pdz.accounts.models import User
    from pdz.tavoli.models import Membership

    emails = set(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.body_id == body(ASSEMBLEA).id, Membership.ended_at.is_(None), User.active)
        )
    )
    db.session.commit()
    return emails


def _worker(app: Any, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=["mail-worker", "--once", *args])
    assert result.exit_code == 0, result.output
    return result


def test_convening_the_48_mayors_queues_their_mail_without_contacting_smtp_and_the_worker_sends_it(
    app: Any, db: Any, client_as: Any, body: Any, silent: SilentServer, sink: SmtpSink
) -> None:
    from pdz.mail import MailStatus

    mayors = _assemblea_members(db, body)
    assert len(mayors) == 48  # one seat per comune of the Ambito
    before = _last_id(db)

    # The configured SMTP server accepts connections and never answers: sending in the request would hang.
    response = convene(client_as("udp@example.org"), body(ASSEMBLEA).id)

    assert response.status_code == 302
    queued = _since(db, before)
    assert sorted(m.to for m in queued) == sorted(mayors)
    assert {(m.status, m.attempts) for m in queued} == {(MailStatus.OUTBOX, 0)}
    assert silent.accepted == []  # nobody talked to the SMTP server while answering the request

    configure(app, PDZ_SMTP_PORT=sink.port)  # the worker's server
    _worker(app)

    assert sorted(sink.received) == sorted(mayors)
    sent = _since(db, before)
    assert {(m.status, m.attempts, m.last_error) for m in sent} == {(MailStatus.SENT, 1, None)}
    assert all(m.sent_at is not None and m.next_attempt_at is None for m in sent)


@pytest.fixture
def mail_thread(app: Any) -> Iterator[None]:
    yield
    from pdz.mail import stop_worker

    stop_worker(app)


@pytest.mark.parametrize("mail_settings", [{"PDZ_MAIL_WORKER": "thread"}])
def test_in_single_process_mode_the_web_process_sends_its_outbox_itself(
    app: Any, db: Any, client_as: Any, tavolo: Any, sink: SmtpSink, mail_thread: None
) -> None:
    from pdz.mail import MailStatus

    before = _last_id(db)
    response = convene(client_as("coord.pubblico@example.org"), tavolo.id, title="Incontro di giugno")

    assert response.status_code == 302
    recipients = sorted(m.to for m in _since(db, before))
    assert len(recipients) >= 5
    wait_for(lambda: sorted(sink.received) == recipients, what="the worker thread to send the convocation")
    wait_for(
        lambda: {m.status for m in _since(db, before)} == {MailStatus.SENT}, what="the messages marked sent"
    )


def test_the_worker_refuses_to_start_without_an_smtp_server(app: Any) -> None:
    configure(app, PDZ_SMTP_HOST=None)

    result = app.test_cli_runner().invoke(args=["mail-worker", "--once"])

    assert result.exit_code != 0
    assert "PDZ_SMTP_HOST non è impostato" in result.output


def test_mail_written_without_an_smtp_server_stays_in_the_development_outbox(
    app: Any, db: Any, client_as: Any, tavolo: Any, sink: SmtpSink
) -> None:
    from pdz.mail import MailStatus

    configure(app, PDZ_SMTP_HOST=None)
    before = _last_id(db)
    assert convene(client_as("coord.pubblico@example.org"), tavolo.id).status_code == 302
    configure(app, PDZ_SMTP_HOST="127.0.0.1")

    _worker(app)

    kept = _since(db, before)
    assert kept and {(m.status, m.attempts, m.next_attempt_at) for m in kept} == {
        (MailStatus.OUTBOX, 0, None)
    }
    assert sink.received == []


def test_several_workers_at_once_send_each_message_exactly_once(
    app: Any, db: Any, client_as: Any, body: Any, sink: SmtpSink
) -> None:
    from pdz.mail import MailStatus, MailWorker

    mayors = _assemblea_members(db, body)
    before = _last_id(db)
    assert convene(client_as("udp@example.org"), body(ASSEMBLEA).id).status_code == 302

    start = threading.Barrier(3)
    tried: list[int] = []

    def work() -> None:
        worker = MailWorker(app)
        start.wait()
        tried.append(worker.run_once())

    workers = [threading.Thread(target=work) for _ in range(3)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)

    assert Counter(sink.received) == Counter(mayors)  # every mayor once, nobody twice
    assert sum(tried) == len(mayors)
    assert {(m.status, m.attempts) for m in _since(db, before)} == {(MailStatus.SENT, 1)}


@pytest.mark.parametrize("mail_settings", [{"PDZ_MAIL_MAX_ATTEMPTS": 3, "PDZ_MAIL_RETRY_SECONDS": 60}])
def test_unsent_mail_is_retried_with_exponential_backoff_then_marked_failed_with_its_reason(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    """Nobody listens at the SMTP port. The rule: after the n-th failed attempt the next one is due
    60 s × 2^(n-1) later; after the 3rd the message is "non inviata" and the UdP reads why."""
    from pdz.audit import AuditEntry
    from pdz.db import utcnow
    from pdz.mail import MailStatus, OutboxMessage

    before = _last_id(db)
    assert convene(client_as("coord.pubblico@example.org"), tavolo.id).status_code == 302
    count = len(_since(db, before))
    assert count >= 5

    def make_due() -> None:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id > before)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    for attempt, delay in ((1, 60), (2, 120)):
        started = utcnow()
        _worker(app)
        finished = utcnow()
        messages = _since(db, before)
        assert {(m.status, m.attempts) for m in messages} == {(MailStatus.OUTBOX, attempt)}
        assert all("ConnectionRefusedError" in (m.last_error or "") for m in messages)
        for m in messages:
            assert (
                started + timedelta(seconds=delay) <= m.next_attempt_at <= finished + timedelta(seconds=delay)
            )
        assert "0 messaggi tentati" in _worker(app).output  # not due yet: nobody tries again
        assert {m.attempts for m in _since(db, before)} == {attempt}
        make_due()

    _worker(app)

    failed = _since(db, before)
    assert {(m.status, m.attempts, m.next_attempt_at) for m in failed} == {(MailStatus.FAILED, 3, None)}
    audited = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "mail.failed", AuditEntry.object_id > before)
    ).all()
    assert sorted(e.object_id for e in audited) == sorted(m.id for m in failed)
    page = html.unescape(client_as("udp@example.org").get("/admin/posta").get_data(as_text=True))
    reasons = re.findall(r'data-testid="mail-failure">([^<]*)<', page)
    assert len(reasons) == count and all("ConnectionRefusedError" in r for r in reasons)
