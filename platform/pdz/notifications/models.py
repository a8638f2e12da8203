"""Notifications (in-app, and the e-mail state of each) and per-person mail preferences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, StrEnumType, utcnow


class NotificationKind(StrEnum):
    MENTION = "menzione"
    REPLY = "risposta"
    NEW_COMMENT = "nuovo_commento"
    APPROVAL = "approvazione"  # a step of the approval chain waits for this person (or has ended)
    MEETING = "incontro"  # a meeting of one's body was convened, moved or cancelled


class MailMode(StrEnum):
    IMMEDIATE = "subito"
    DIGEST = "riepilogo"
    NEVER = "mai"


class MailState(StrEnum):
    PENDING = "da_inviare"  # waits for the immediate mail or the daily digest
    SENT = "inviata"
    NONE = "nessuna"  # the person does not want mail for this kind


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_mail_state", "mail_state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(StrEnumType(NotificationKind, 20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"))
    target_kind: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int]
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    text: Mapped[str] = mapped_column(Text)  # plain text, autoescaped in pages
    url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    mail_state: Mapped[MailState] = mapped_column(StrEnumType(MailState, 20), default=MailState.PENDING)


class NotificationPreference(Base):
    """Per person: how mail arrives for mentions and for everything else. Missing row = defaults."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    mentions: Mapped[MailMode] = mapped_column(StrEnumType(MailMode, 20), default=MailMode.IMMEDIATE)
    others: Mapped[MailMode] = mapped_column(StrEnumType(MailMode, 20), default=MailMode.DIGEST)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
