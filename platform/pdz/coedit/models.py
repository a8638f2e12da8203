"""Storage of co-written documents: a compacted state plus the updates appended since."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class CoDoc(Base):
    """One Y.Doc. `seq` is the number of the last stored update: it is taken under this row's lock, so
    sequence numbers are gapless and in commit order (unlike ids given at flush)."""

    __tablename__ = "coedit_docs"
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int]
    seq: Mapped[int] = mapped_column(default=0)
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)  # the whole state up to `snapshot_seq`
    snapshot_seq: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoUpdate(Base):
    """One accepted update, exactly as the editor sent it (or as the server made it: restore, import)."""

    __tablename__ = "coedit_updates"
    __table_args__ = (UniqueConstraint("doc_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    doc_id: Mapped[int] = mapped_column(ForeignKey("coedit_docs.id"))
    seq: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
