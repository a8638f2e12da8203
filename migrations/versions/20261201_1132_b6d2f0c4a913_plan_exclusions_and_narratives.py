"""plan_exclusions and plan_narratives: the Piano di Zona's excluded cards (with the reason) and its co-written
chapter texts

Revision ID: b6d2f0c4a913
Revises: 5c1e0a7d9b21
Create Date: 2026-12-01 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b6d2f0c4a913"
down_revision = "5c1e0a7d9b21"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_by_id", sa.Integer(), nullable=False),
        sa.Column("excluded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_plan_exclusions_card_id_cards")),
        sa.ForeignKeyConstraint(
            ["excluded_by_id"], ["users.id"], name=op.f("fk_plan_exclusions_excluded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan_documents.id"], name=op.f("fk_plan_exclusions_plan_id_plan_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_exclusions")),
        sa.UniqueConstraint("plan_id", "card_id", name=op.f("uq_plan_exclusions_plan_id_card_id")),
    )
    with op.batch_alter_table("plan_exclusions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_exclusions_card_id"), ["card_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_exclusions_plan_id"), ["plan_id"], unique=False)
    op.create_table(
        "plan_narratives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("text_source", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan_documents.id"], name=op.f("fk_plan_narratives_plan_id_plan_documents")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_plan_narratives_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_narratives")),
        sa.UniqueConstraint("plan_id", "key", name=op.f("uq_plan_narratives_plan_id_key")),
    )
    with op.batch_alter_table("plan_narratives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_narratives_plan_id"), ["plan_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plan_narratives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_narratives_plan_id"))
    op.drop_table("plan_narratives")
    with op.batch_alter_table("plan_exclusions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_exclusions_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_exclusions_card_id"))
    op.drop_table("plan_exclusions")
