"""attachments: files attached to tavoli, cards, meetings and agenda items (bytes stored by content hash)

Revision ID: 1cd3beec61f4
Revises: e7c2a9f4b1d8
Create Date: 2026-12-01 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1cd3beec61f4"
down_revision = "e7c2a9f4b1d8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["body_id"], ["bodies.id"], name=op.f("fk_attachments_body_id_bodies")),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_attachments_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["users.id"], name=op.f("fk_attachments_removed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments") as batch:
        batch.create_index(batch.f("ix_attachments_body_id"), ["body_id"], unique=False)
        batch.create_index(batch.f("ix_attachments_meeting_id"), ["meeting_id"], unique=False)
        batch.create_index(batch.f("ix_attachments_sha256"), ["sha256"], unique=False)
        batch.create_index("ix_attachments_target", ["target_kind", "target_id"], unique=False)


def downgrade():
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_target")
        batch.drop_index(batch.f("ix_attachments_sha256"))
        batch.drop_index(batch.f("ix_attachments_meeting_id"))
        batch.drop_index(batch.f("ix_attachments_body_id"))
    op.drop_table("attachments")
