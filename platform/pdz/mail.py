"""Outgoing mail: written to the outbox in the same transaction, sent by SMTP after commit when configured.

A message that cannot be sent, for whatever reason (network, SMTP refusal, an address or header the email
library refuses), is marked "non inviata" and its reason is written to the audit log (`mail.failed`, shown
next to the message on the outbox page); it never stops the other messages nor the request that sent it."""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import JSON, String, Text, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, StrEnumType, on_commit, utcnow
from .extensions import db

log = logging.getLogger(__name__)


class MailStatus(StrEnum):
    OUTBOX = "in_uscita"  # development outbox: no SMTP configured
    SENT = "inviata"
    FAILED = "non_inviata"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(StrEnumType(MailStatus, 20), default=MailStatus.OUTBOX)
    # Optional text attachments: [{"filename", "content_type" ("text/calendar; method=REQUEST"), "content"}]
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


def one_line_subject(subject: str) -> str:
    """A subject is one header line: line breaks and other control characters become spaces."""
    return " ".join(
        "".join(" " if unicodedata.category(c) == "Cc" or c in "\u2028\u2029" else c for c in subject).split()
    )


def send_mail(
    to: str, subject: str, body: str, attachments: list[dict[str, Any]] | None = None
) -> OutboxMessage:
    subject = one_line_subject(subject)[:250]
    message = OutboxMessage(to=to, subject=subject, body=body, attachments=attachments or None)
    db.session.add(message)
    if current_app.config.get("PDZ_SMTP_HOST"):
        config = dict(current_app.config)
        db.session.flush()
        message_id = message.id
        on_commit(db.session, lambda: _deliver(config, message_id, to, subject, body, attachments))
    return message


def _deliver(
    config: dict,
    message_id: int,
    to: str,
    subject: str,
    body: str,
    attachments: list[dict[str, Any]] | None = None,
) -> None:
    """Runs after the commit, for each message in turn: it must never raise (the next messages and the
    request's other after-commit work would be skipped, and the request would answer 500)."""
    reason = ""
    try:
        email = _build(config, to, subject, body, attachments)
        with smtplib.SMTP(config["PDZ_SMTP_HOST"], config["PDZ_SMTP_PORT"], timeout=10) as smtp:
            if config["PDZ_SMTP_STARTTLS"]:
                smtp.starttls()
            if config["PDZ_SMTP_USER"]:
                smtp.login(config["PDZ_SMTP_USER"], config["PDZ_SMTP_PASSWORD"] or "")
            smtp.send_message(email)
    except Exception as error:  # noqa: BLE001 - whatever the cause, this message is not sent, the others go on
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning("mail %s to %r not sent: %s", message_id, to, reason)
    try:
        _record_outcome(message_id, to, reason)
    except Exception:  # noqa: BLE001 - the database is unreachable too: the message stays "in uscita"
        log.exception("outcome of mail %s not recorded", message_id)


def _build(
    config: dict, to: str, subject: str, body: str, attachments: list[dict[str, Any]] | None
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


def _record_outcome(message_id: int, to: str, reason: str) -> None:
    """The status, and for a failure its reason in the audit log, in one transaction of their own (after
    the commit, the request's session may not run SQL)."""
    from .audit import AuditEntry

    status = MailStatus.FAILED if reason else MailStatus.SENT
    with db.engine.begin() as connection:
        connection.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(status=status))
        if reason:
            connection.execute(
                insert(AuditEntry).values(
                    at=utcnow(),
                    actor_id=None,
                    action="mail.failed",
                    object_type=OutboxMessage.__tablename__,
                    object_id=message_id,
                    details={"to": to, "reason": reason},
                )
            )


def failure_reasons(message_ids: list[int]) -> dict[int, str]:
    """Why each of these messages was not sent (the latest reason recorded), for the outbox page."""
    from .audit import AuditEntry

    if not message_ids:
        return {}
    rows = db.session.execute(
        select(AuditEntry.object_id, AuditEntry.details)
        .where(
            AuditEntry.action == "mail.failed",
            AuditEntry.object_type == OutboxMessage.__tablename__,
            AuditEntry.object_id.in_(message_ids),
        )
        .order_by(AuditEntry.id)
    )
    return {row.object_id: str((row.details or {}).get("reason", "")) for row in rows}
