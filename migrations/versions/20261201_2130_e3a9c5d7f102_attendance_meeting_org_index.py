"""attendances (meeting_id, organisation_id): whether an organisation came to a meeting is one index seek

Revision ID: e3a9c5d7f102
Revises: d41e7a9c2b58
Create Date: 2026-12-01 21:30:00
"""

from alembic import op

revision = "e3a9c5d7f102"
down_revision = "d41e7a9c2b58"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_attendances_meeting_org", "attendances", ["meeting_id", "organisation_id"])


def downgrade():
    op.drop_index("ix_attendances_meeting_org", table_name="attendances")
