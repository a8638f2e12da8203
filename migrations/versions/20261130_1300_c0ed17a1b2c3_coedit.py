"""coedit: stored Yjs documents (compacted state + appended updates)

Revision ID: c0ed17a1b2c3
Revises: 92c6454d4e56
Create Date: 2026-11-30 13:00:00

Existing texts stay where they are (card values, minutes, SWOT entries, mandates): a document is started
from them the first time it is opened, under the unique (kind, ref_id) constraint, so nothing is lost and
nothing is copied twice.

Overlap boxes are gone with the old merge: every recorded `card_conflicts` row is archived, both versions,
as an audit entry ("card.conflict_archived") before the table is dropped.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import pdz.db

revision = "c0ed17a1b2c3"
down_revision = "92c6454d4e56"
branch_labels = None
depends_on = None


def _archive_conflicts():
    bind = op.get_bind()
    rows = (
        bind.execute(
            sa.text(
                "SELECT id, card_id, field, author_id, at, mine, theirs, resolved_at FROM card_conflicts ORDER BY id"
            )
        )
        .mappings()
        .all()
    )
    audit = sa.table(
        "audit_entries",
        sa.column("at", pdz.db.UTCDateTime()),
        sa.column("actor_id", sa.Integer()),
        sa.column("action", sa.String()),
        sa.column("object_type", sa.String()),
        sa.column("object_id", sa.Integer()),
        sa.column("details", sa.JSON()),
    )
    now = datetime.now(UTC)
    for row in rows:
        op.execute(
            audit.insert().values(
                at=now,
                actor_id=row["author_id"],
                action="card.conflict_archived",
                object_type="cards",
                object_id=row["card_id"],
                details={
                    "conflict_id": row["id"],
                    "field": row["field"],
                    "mine": row["mine"],
                    "theirs": row["theirs"],
                    "at": str(row["at"]),
                    "resolved": row["resolved_at"] is not None,
                },
            )
        )


def upgrade():
    _archive_conflicts()
    op.drop_table("card_conflicts")
    op.create_table(
        "coedit_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("snapshot_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", pdz.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coedit_docs")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_coedit_docs_kind_ref_id")),
    )
    op.create_table(
        "coedit_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pdz.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_coedit_updates_author_id_users")),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["coedit_docs.id"], name=op.f("fk_coedit_updates_doc_id_coedit_docs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coedit_updates")),
        sa.UniqueConstraint("doc_id", "seq", name=op.f("uq_coedit_updates_doc_id_seq")),
    )


def downgrade():
    op.drop_table("coedit_updates")
    op.drop_table("coedit_docs")
    op.create_table(
        "card_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("at", pdz.db.UTCDateTime(), nullable=False),
        sa.Column("base_revision", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("mine", sa.Text(), nullable=False),
        sa.Column("theirs", sa.Text(), nullable=False),
        sa.Column("client_op_id", sa.String(length=64), nullable=False),
        sa.Column("resolved_at", pdz.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_revision", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_card_conflicts_author_id_users")),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_card_conflicts_card_id_cards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_conflicts")),
        sa.UniqueConstraint("client_op_id", name=op.f("uq_card_conflicts_client_op_id")),
    )
    with op.batch_alter_table("card_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_conflicts_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_card_conflicts_card_id"), ["card_id"], unique=False)
