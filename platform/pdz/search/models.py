"""The search index: one row per searchable object, with its plain text.

PostgreSQL searches the `tsv` column (`to_tsvector('italian', ...)`, GIN index). SQLite searches the FTS5
table `search_fts` created by the migration (external content = this table, kept in sync by triggers). That
virtual table and its shadow tables are not models: `_ignore_fts_tables` tells Alembic's comparison to
leave them alone, so "models == migrations" still holds (tests/test_migrations.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alembic.autogenerate import comparators
from alembic.operations import ops
from alembic.util import DispatchPriority
from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow

FTS_TABLE = "search_fts"


class SearchEntry(Base):
    __tablename__ = "search_entries"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index("ix_search_entries_tsv", "tsv", postgresql_using="gin"),
        # one kind's entries newest first: PostgreSQL's walk to a common word's newest matches (queries.py)
        Index("ix_search_entries_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # card, comment, meeting, agenda, minutes, ...
    object_id: Mapped[int]
    body_id: Mapped[int | None] = mapped_column(index=True)  # whose members may read it; None: every user
    meeting_id: Mapped[int | None]  # meeting-related kinds: a named delegate reads them too
    ref: Mapped[str] = mapped_column(String(60), default="")  # what the link needs ("card:12", "7")
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text, default="")
    # PostgreSQL: setweight(title, 'A') || content, Italian configuration; always NULL on SQLite
    tsv: Mapped[Any | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@comparators.dispatch_for("autogenerate", priority=DispatchPriority.LAST)
def _ignore_fts_tables(autogen_context: Any, upgrade_ops: ops.UpgradeOps) -> None:
    """SQLite's FTS5 table and its shadow tables are created by the migration, not by a model."""
    upgrade_ops.ops[:] = [
        op
        for op in upgrade_ops.ops
        if not (isinstance(op, ops.DropTableOp) and (op.table_name or "").startswith(FTS_TABLE))
    ]
