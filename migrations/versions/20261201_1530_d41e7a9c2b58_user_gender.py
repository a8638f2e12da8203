"""users.gender: how a person's roles are named (feminine or masculine form), as they say in their profile

Revision ID: d41e7a9c2b58
Revises: b6d2f0c4a913
Create Date: 2026-12-01 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d41e7a9c2b58"
down_revision = "b6d2f0c4a913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("gender", sa.String(length=1), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("gender")
