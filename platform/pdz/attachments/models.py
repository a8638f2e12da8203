"""Attachments: one row per file attached to a tavolo, a card, a meeting or an agenda item.

The bytes live once per content under `PDZ_UPLOAD_DIR` (`storage.py`), named by their SHA-256; a row points at
them. Removing an attachment marks the row (who, when): the file stays in the object's history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, StrEnumType, utcnow

__all__ = ["Attachment", "AttachmentTarget"]


class AttachmentTarget(StrEnum):
    TAVOLO = "tavolo"
    CARD = "card"
    MEETING = "meeting"
    AGENDA_ITEM = "agenda_item"


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_target", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)  # the tavolo whose rights apply
    target_kind: Mapped[AttachmentTarget] = mapped_column(StrEnumType(AttachmentTarget, 20))
    target_id: Mapped[int]
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)  # meeting and items
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id], lazy="raise")
    removed_by = relationship("User", foreign_keys=[removed_by_id], lazy="raise")
