"""live event positions: the order in which live events were committed

Revision ID: e4b8c1d2f3a5
Revises: a9c4e2f7b1d3
Create Date: 2026-11-30 17:00:00

Ids are given at flush time, so with concurrent writers they do not follow the order of the commits.
Each event now also gets a position when its transaction commits (see pdz.realtime); existing events keep
their id as their position.
"""

import sqlalchemy as sa
from alembic import op

revision = "e4b8c1d2f3a5"
down_revision = "a9c4e2f7b1d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("live_events") as batch:
        batch.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
    op.execute("UPDATE live_events SET position = id")
    with op.batch_alter_table("live_events") as batch:
        batch.create_unique_constraint(batch.f("uq_live_events_position"), ["position"])


def downgrade():
    with op.batch_alter_table("live_events") as batch:
        batch.drop_constraint(batch.f("uq_live_events_position"), type_="unique")
        batch.drop_column("position")
