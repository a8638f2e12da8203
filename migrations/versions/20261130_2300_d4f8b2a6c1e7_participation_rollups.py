"""participation rollups: figures per tavolo and month, stale marks, meetings by body, status and start

Every body is marked stale: the first reader of the participation dashboard computes the rollups from
the history already there (queries.refresh).

Revision ID: d4f8b2a6c1e7
Revises: c3e9a7d1f2b4
Create Date: 2026-11-30 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f8b2a6c1e7"
down_revision = "c3e9a7d1f2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participation_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_rollups")),
    )
    with op.batch_alter_table("participation_rollups") as batch:
        batch.create_index(batch.f("ix_participation_rollups_body_id"), ["body_id"], unique=False)
        batch.create_index("ix_participation_rollups_month_body", ["month", "body_id"], unique=False)
    op.create_table(
        "participation_stale",
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("body_id", "month", name=op.f("pk_participation_stale")),
    )
    with op.batch_alter_table("meetings") as batch:
        batch.create_index("ix_meetings_body_status_starts", ["body_id", "status", "starts_at"], unique=False)
    op.execute("INSERT INTO participation_stale (body_id, month) SELECT id, '' FROM bodies")


def downgrade():
    with op.batch_alter_table("meetings") as batch:
        batch.drop_index("ix_meetings_body_status_starts")
    op.drop_table("participation_stale")
    with op.batch_alter_table("participation_rollups") as batch:
        batch.drop_index("ix_participation_rollups_month_body")
        batch.drop_index(batch.f("ix_participation_rollups_body_id"))
    op.drop_table("participation_rollups")
