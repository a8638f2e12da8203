"""participation monthly totals: every body marked stale, so its rows of monthly totals are written

The rollups table gains, per tavolo and month, the organisations' attendance summed (month = "M202603",
kind "org"): the dashboard's monthly table reads those few rows instead of every organisation's. No column
changes; the first reader after the upgrade recomputes every body (queries.refresh). Downgrade removes them.

Revision ID: e40cbc6b1655
Revises: a7487bdce00c
Create Date: 2026-12-01 05:20:00
"""

from alembic import op

revision = "e40cbc6b1655"
down_revision = "a7487bdce00c"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "INSERT INTO participation_stale (body_id, month) SELECT id, '' FROM bodies "
        "WHERE id NOT IN (SELECT body_id FROM participation_stale WHERE month = '')"
    )


def downgrade():
    op.execute("DELETE FROM participation_rollups WHERE month >= 'M' AND month < 'N'")
