"""participation yearly rollups: every body marked stale, so its yearly rows are written next to the monthly ones

The rollups table gains rows per tavolo and year (month = "Y2026"), summed from the monthly rows; no column
changes. The first reader after the upgrade recomputes every body (queries.refresh). Downgrade removes
the yearly rows.

Revision ID: a7487bdce00c
Revises: 23932878573d
Create Date: 2026-12-01 05:00:00
"""

from alembic import op

revision = "a7487bdce00c"
down_revision = "23932878573d"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "INSERT INTO participation_stale (body_id, month) SELECT id, '' FROM bodies "
        "WHERE id NOT IN (SELECT body_id FROM participation_stale WHERE month = '')"
    )


def downgrade():
    op.execute("DELETE FROM participation_rollups WHERE month LIKE 'Y%'")
