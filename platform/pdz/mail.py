"""Outgoing mail: written to the outbox in the same transaction, sent by SMTP after commit when configured."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import JSON, String, Text, update
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


def send_mail(
    to: str, subject: str, body: str, attachments: list[dict[str, Any]] | None = None
) -> OutboxMessage:
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
    status = MailStatus.SENT
    try:
        with smtplib.SMTP(config["PDZ_SMTP_HOST"], config["PDZ_SMTP_PORT"], timeout=10) as smtp:
            if config["PDZ_SMTP_STARTTLS"]:
                smtp.starttls()
            if config["PDZ_SMTP_USER"]:
                smtp.login(config["PDZ_SMTP_USER"], config["PDZ_SMTP_PASSWORD"] or "")
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException):
        log.exception("mail %s to %s not sent", message_id, to)
        status = MailStatus.FAILED
    with db.engine.begin() as connection:  # after commit: the session itself may not run SQL here
        connection.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(status=status))
