"""Outgoing mail through a durable outbox: requests only write rows, a worker sends them.

`send_mail` adds an `OutboxMessage` to the caller's transaction, so a message exists exactly when the change
that caused it was committed, and no request ever waits for an SMTP server. The worker (`deliver_due`) runs
as `flask --app wsgi mail-worker` or, in single-process deployments, as a background thread of the web
process (`PDZ_MAIL_WORKER=thread`, the default outside tests). Each message is claimed atomically (a
compare-and-swap on its status and due time), so several workers never send the same message twice.

A message that cannot be sent is tried again with exponential backoff (`PDZ_MAIL_RETRY_SECONDS` doubled at
each attempt, at most one hour apart) up to `PDZ_MAIL_MAX_ATTEMPTS` times; one that cannot even be built (an
address or header the email library refuses) or that the server refuses for good (5xx) fails at once. A failed
message is marked "non inviata" with its reason (shown on the UdP's "Posta in uscita" page and written to
the audit log as `mail.failed`) and never holds up the others.

Without `PDZ_SMTP_HOST` a message is written with no due time: it stays in the development outbox, readable
by the staff, and no worker ever sends it."""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import threading
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from flask import Flask, current_app
from sqlalchemy import JSON, Index, String, Text, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .audit import AuditEntry
from .db import Base, StrEnumType, on_commit, utcnow
from .extensions import db

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a claimed message is retried after this if its worker died while sending
MAX_BACKOFF = timedelta(hours=1)


class MailStatus(StrEnum):
    OUTBOX = "in_uscita"  # queued (due at next_attempt_at), or kept in the development outbox (no SMTP)
    SENT = "inviata"
    FAILED = "non_inviata"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(StrEnumType(MailStatus, 20), default=MailStatus.OUTBOX)
    # Optional text attachments: [{"filename", "content_type" ("text/calendar; method=REQUEST"), "content"}]
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    # When a worker may (next) try it; empty: never (development outbox, or sent, or failed).
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]


def one_line_subject(subject: str) -> str:
    """A subject is one header line: line breaks and other control characters become spaces."""
    return " ".join(
        "".join(" " if unicodedata.category(c) == "Cc" or c in "\u2028\u2029" else c for c in subject).split()
    )


def send_mail(
    to: str, subject: str, body: str, attachments: list[dict[str, Any]] | None = None
) -> OutboxMessage:
    """Queue one message in the current transaction; a worker sends it after the commit."""
    subject = one_line_subject(subject)[:250]
    due = utcnow() if current_app.config.get("PDZ_SMTP_HOST") else None
    message = OutboxMessage(
        to=to, subject=subject, body=body, attachments=attachments or None, next_attempt_at=due
    )
    db.session.add(message)
    if due is not None:
        on_commit(db.session, _wake_workers)
    return message


# --- settings --------------------------------------------------------------------------------------


def setting(config: Any, name: str, default: Any, cast: Callable[[Any], Any] = str) -> Any:
    """A mail setting: the app's configuration first (tests override it there), then the environment."""
    value = config.get(name)
    if value is None:
        value = os.environ.get(name)
    return default if value in (None, "") else cast(value)


def worker_mode(app: Flask) -> str:
    """`thread`: the web process sends its outbox itself; `external`: a `mail-worker` process does.
    Tests default to `external`, so that no background thread runs unless a test asks for it."""
    mode = setting(app.config, "PDZ_MAIL_WORKER", "external" if app.testing else "thread").strip().lower()
    return mode if mode in {"thread", "external"} else "thread"


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Delay before the next try after `attempts` failed ones: base, 2×base, 4×base…, at most one hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


# --- the worker ------------------------------------------------------------------------------------


class _Smtp:
    """One SMTP connection for a batch, opened on first use and dropped after any error."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        config = self.config
        try:
            if self.connection is None:
                timeout = setting(config, "PDZ_SMTP_TIMEOUT", 10.0, float)
                self.connection = smtplib.SMTP(
                    config["PDZ_SMTP_HOST"], config["PDZ_SMTP_PORT"], timeout=timeout
                )
                if config.get("PDZ_SMTP_STARTTLS"):
                    self.connection.starttls()
                if config.get("PDZ_SMTP_USER"):
                    self.connection.login(config["PDZ_SMTP_USER"], config.get("PDZ_SMTP_PASSWORD") or "")
            self.connection.send_message(email)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # the connection is being dropped anyway
                self.connection.quit()
            self.connection = None


class _Permanent(Exception):
    """This message can never be sent as it is: no retry."""


def deliver_due(config: Any | None = None, *, limit: int = 100) -> int:
    """Send the messages that are due (needs an app context). Returns how many were tried."""
    config = config if config is not None else current_app.config
    if not config.get("PDZ_SMTP_HOST"):
        return 0
    now = utcnow()
    with db.engine.connect() as connection:  # each claim and each outcome is then a transaction of its own
        ids = list(
            connection.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == MailStatus.OUTBOX, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
        )
    smtp = _Smtp(config)
    tried = 0
    try:
        for message_id in ids:
            claimed = _claim(message_id, now)
            if claimed is None:  # another worker took it first
                continue
            tried += 1
            _send_one(config, smtp, claimed)
    finally:
        smtp.close()
    return tried


def _claim(message_id: int, now: datetime) -> Any:
    """Take one due message for this worker: one UPDATE that succeeds for exactly one worker, which pushes
    its due time past the lease so that no other worker sees it due while it is being sent."""
    with db.engine.begin() as connection:
        return connection.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == MailStatus.OUTBOX,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=utcnow() + LEASE)
            .returning(
                OutboxMessage.id,
                OutboxMessage.to,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.attachments,
                OutboxMessage.attempts,
            )
        ).first()


def _send_one(config: Any, smtp: _Smtp, message: Any) -> None:
    """Never raises: whatever happens to this message, the next ones are tried."""
    reason, permanent = "", False
    try:
        try:
            email = _build(config, message.to, message.subject, message.body, message.attachments)
        except Exception as error:  # noqa: BLE001 - a message that cannot be built never will be
            raise _Permanent(f"{type(error).__name__}: {error}") from error
        smtp.send(email)
    except _Permanent as error:
        reason, permanent = str(error), True
    except Exception as error:  # noqa: BLE001 - network, refusal, timeout: recorded, maybe retried
        reason, permanent = f"{type(error).__name__}: {error}", _refused_for_good(error)
    reason = reason[:500]
    if reason:
        log.warning(
            "mail %s to %r not sent (attempt %s): %s", message.id, message.to, message.attempts, reason
        )
    try:
        _record_outcome(config, message, reason, permanent)
    except Exception:  # noqa: BLE001 - the database is unreachable: the lease runs out and it is retried
        log.exception("outcome of mail %s not recorded", message.id)


def _refused_for_good(error: Exception) -> bool:
    """An SMTP 5xx answer about this message (not a login or connection problem) will not change."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _build(
    config: Any, to: str, subject: str, body: str, attachments: list[dict[str, Any]] | None
) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = config["PDZ_MAIL_FROM"], to, subject
    email.set_content(body)
    for attachment in attachments or []:
        maintype, _sep, rest = attachment["content_type"].partition("/")
        subtype, *params = [part.strip() for part in rest.split(";")]
        email.add_attachment(
            attachment["content"].encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
            params=dict(p.split("=", 1) for p in params if "=" in p),
        )
    return email


def _record_outcome(config: Any, message: Any, reason: str, permanent: bool) -> None:
    """Sent, to be retried later, or failed (with its reason in the audit log), in one transaction. The
    `attempts` condition keeps a worker whose lease ran out from overwriting a later worker's outcome."""
    mine = (OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts)
    now = utcnow()
    max_attempts = setting(config, "PDZ_MAIL_MAX_ATTEMPTS", 8, int)
    with db.engine.begin() as connection:
        if not reason:
            connection.execute(
                update(OutboxMessage)
                .where(*mine)
                .values(status=MailStatus.SENT, sent_at=now, next_attempt_at=None, last_error=None)
            )
        elif not permanent and message.attempts < max_attempts:
            delay = backoff(message.attempts, setting(config, "PDZ_MAIL_RETRY_SECONDS", 60.0, float))
            connection.execute(
                update(OutboxMessage).where(*mine).values(next_attempt_at=now + delay, last_error=reason)
            )
        else:
            done = connection.execute(
                update(OutboxMessage)
                .where(*mine)
                .values(status=MailStatus.FAILED, next_attempt_at=None, last_error=reason)
            )
            if done.rowcount:
                connection.execute(
                    insert(AuditEntry).values(
                        at=now,
                        actor_id=None,
                        action="mail.failed",
                        object_type=OutboxMessage.__tablename__,
                        object_id=message.id,
                        details={"to": message.to, "reason": reason, "attempts": message.attempts},
                    )
                )


def failure_reasons(message_ids: list[int]) -> dict[int, str]:
    """Why each of these messages was not sent, for the outbox page."""
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.last_error).where(OutboxMessage.id.in_(message_ids))
    )
    return {row.id: row.last_error or "" for row in rows}


# --- running the worker ----------------------------------------------------------------------------

_wake = threading.Event()  # set when this process queues a message: its worker thread sends at once


def _wake_workers() -> None:
    _wake.set()


class MailWorker:
    """Sends the outbox in a loop: in its own process (`mail-worker`) or as a daemon thread of a web process.
    It wakes when this process queues a message, and otherwise looks every `interval` seconds."""

    def __init__(self, app: Flask, interval: float = 5.0) -> None:
        self.app = app
        self.interval = interval
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            tried = self.run_once()
            if tried == 0:
                _wake.wait(self.interval)
                _wake.clear()

    def run_once(self) -> int:
        with self.app.app_context():
            try:
                return deliver_due(self.app.config)
            except Exception:  # noqa: BLE001 - the database is down: log it, wait, try again
                log.exception("mail worker: outbox not readable")
                return 0

    def start(self) -> MailWorker:
        self.thread = threading.Thread(target=self.run, name="pdz-mail-worker", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        _wake.set()
        if self.thread is not None:
            self.thread.join(timeout)


_start_lock = threading.Lock()


def install(app: Flask) -> None:
    """In `thread` mode the first request of each web process starts its worker thread (never at import,
    so that CLI commands and forked servers do not run one by accident)."""

    @app.before_request
    def _start_mail_worker() -> None:
        if "pdz_mail_worker" in app.extensions:
            return
        with _start_lock:
            if "pdz_mail_worker" in app.extensions:
                return
            worker = None
            if worker_mode(app) == "thread" and app.config.get("PDZ_SMTP_HOST"):
                worker = MailWorker(app).start()
            app.extensions["pdz_mail_worker"] = worker


def stop_worker(app: Flask) -> None:
    worker = app.extensions.get("pdz_mail_worker")
    if worker is not None:
        worker.stop()
