"""agenda_proposals: items members propose for a meeting's agenda, with the cards they concern

Revision ID: 23932878573d
Revises: 1cd3beec61f4
Create Date: 2026-12-01 04:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "23932878573d"
down_revision = "1cd3beec61f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agenda_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_agenda_proposals_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["agenda_items.id"],
            name=op.f("fk_agenda_proposals_item_id_agenda_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_agenda_proposals_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"], ["users.id"], name=op.f("fk_agenda_proposals_proposer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_proposals")),
    )
    with op.batch_alter_table("agenda_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_proposals_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_proposals_proposer_id"), ["proposer_id"], unique=False)
    op.create_table(
        "agenda_proposal_cards",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_agenda_proposal_cards_card_id_cards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["agenda_proposals.id"],
            name=op.f("fk_agenda_proposal_cards_proposal_id_agenda_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "card_id", name=op.f("pk_agenda_proposal_cards")),
    )
    with op.batch_alter_table("agenda_proposal_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_proposal_cards_card_id"), ["card_id"], unique=False)


def downgrade():
    with op.batch_alter_table("agenda_proposal_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_proposal_cards_card_id"))
    op.drop_table("agenda_proposal_cards")
    with op.batch_alter_table("agenda_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_proposals_proposer_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_proposals_meeting_id"))
    op.drop_table("agenda_proposals")
