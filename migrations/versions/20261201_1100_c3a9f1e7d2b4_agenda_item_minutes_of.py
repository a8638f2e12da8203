"""agenda item approving minutes: the earlier meeting whose minutes an agenda item approves

Revision ID: c3a9f1e7d2b4
Revises: 0025ac15628a
Create Date: 2026-12-01 11:00:00

A body approves its own minutes at its next meeting, under the item "Approvazione del verbale della seduta
precedente"; the item points to the meeting whose minutes it approves (emptied if that meeting is deleted).
"""

import sqlalchemy as sa
from alembic import op

revision = "c3a9f1e7d2b4"
down_revision = "0025ac15628a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agenda_items") as batch:
        batch.add_column(sa.Column("minutes_of_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_agenda_items_minutes_of_id"), ["minutes_of_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_agenda_items_minutes_of_id_meetings"),
            "meetings",
            ["minutes_of_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("agenda_items") as batch:
        batch.drop_constraint(batch.f("fk_agenda_items_minutes_of_id_meetings"), type_="foreignkey")
        batch.drop_index(batch.f("ix_agenda_items_minutes_of_id"))
        batch.drop_column("minutes_of_id")
