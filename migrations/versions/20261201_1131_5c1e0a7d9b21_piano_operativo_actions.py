"""piano operativo actions: the actions of each card chosen for the year, their referents and resources

`plan_actions` (one row per plan and card action: chosen or not, the year's targets and timing),
`plan_action_referents` (the people named, each for one of their organisations) and `plan_action_budgets`
(the part of a card budget line's share for the year given to the action). New tables only; downgrade drops
them.

Revision ID: 5c1e0a7d9b21
Revises: 6936562fe51f
Create Date: 2026-12-01 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1e0a7d9b21"
down_revision = "6936562fe51f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("timing", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["card_actions.id"], name=op.f("fk_plan_actions_action_id_card_actions")
        ),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_plan_actions_card_id_cards")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan_documents.id"], name=op.f("fk_plan_actions_plan_id_plan_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_actions")),
        sa.UniqueConstraint("plan_id", "action_id", name=op.f("uq_plan_actions_plan_id_action_id")),
    )
    with op.batch_alter_table("plan_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_actions_action_id"), ["action_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_actions_card_id"), ["card_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_actions_plan_id"), ["plan_id"], unique=False)
    op.create_table(
        "plan_action_referents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_action_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_plan_action_referents_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_action_id"],
            ["plan_actions.id"],
            name=op.f("fk_plan_action_referents_plan_action_id_plan_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_plan_action_referents_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_action_referents")),
        sa.UniqueConstraint(
            "plan_action_id", "user_id", name=op.f("uq_plan_action_referents_plan_action_id_user_id")
        ),
    )
    with op.batch_alter_table("plan_action_referents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_action_referents_plan_action_id"), ["plan_action_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_action_referents_user_id"), ["user_id"], unique=False)
    op.create_table(
        "plan_action_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_action_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["card_budget_lines.id"],
            name=op.f("fk_plan_action_budgets_line_id_card_budget_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_action_id"],
            ["plan_actions.id"],
            name=op.f("fk_plan_action_budgets_plan_action_id_plan_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_action_budgets")),
        sa.UniqueConstraint(
            "plan_action_id", "line_id", name=op.f("uq_plan_action_budgets_plan_action_id_line_id")
        ),
    )
    with op.batch_alter_table("plan_action_budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_action_budgets_line_id"), ["line_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_plan_action_budgets_plan_action_id"), ["plan_action_id"], unique=False
        )


def downgrade():
    op.drop_table("plan_action_budgets")
    op.drop_table("plan_action_referents")
    op.drop_table("plan_actions")
