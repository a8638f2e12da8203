"""mail outbox worker: attempts, due time, last error and sending time of each message

Revision ID: b7d2e5a1c3f4
Revises: e4b8c1d2f3a5
Create Date: 2026-11-30 19:00:00

Mail is no longer sent inside the request: a worker sends the outbox with retries and backoff (pdz.mail).
Existing messages get no due time, so the worker never picks them up: those still "in uscita" were written
either without an SMTP server (the development outbox) or by the old in-request sending.
"""

import sqlalchemy as sa
from alembic import op

import pdz.db

revision = "b7d2e5a1c3f4"
down_revision = "e4b8c1d2f3a5"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", pdz.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("sent_at", pdz.db.UTCDateTime(), nullable=True))
        batch.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
    # The reasons recorded so far in the audit log become the failed messages' last error.
    if op.get_bind().dialect.name == "postgresql":
        reason = "audit_entries.details->>'reason'"
    else:
        reason = "json_extract(audit_entries.details, '$.reason')"
    op.execute(  # no input in this statement: `reason` is one of the two fixed expressions above
        f"UPDATE outbox_messages SET last_error = (SELECT SUBSTR({reason}, 1, 500) FROM audit_entries"  # noqa: S608
        " WHERE audit_entries.action = 'mail.failed' AND audit_entries.object_type = 'outbox_messages'"
        " AND audit_entries.object_id = outbox_messages.id ORDER BY audit_entries.id DESC LIMIT 1)"
        " WHERE status = 'non_inviata'"
    )


def downgrade():
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index("ix_outbox_messages_due")
        batch.drop_column("sent_at")
        batch.drop_column("last_error")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
