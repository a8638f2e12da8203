"""funds by year: the allocations of each fund and year, and each budget line split by year

Existing budget lines with an amount get an even split over their card's cycle years, the remainder cents
on the last year, so the parts of every line sum exactly to it.

Revision ID: e7c2a9f4b1d8
Revises: d4f8b2a6c1e7
Create Date: 2026-11-30 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e7c2a9f4b1d8"
down_revision = "d4f8b2a6c1e7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fund_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("act", sa.String(length=300), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_fund_allocations_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_allocations")),
    )
    with op.batch_alter_table("fund_allocations") as batch:
        batch.create_index(batch.f("ix_fund_allocations_year"), ["year"], unique=False)
    op.create_table(
        "card_budget_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["card_budget_lines.id"], name=op.f("fk_card_budget_years_line_id_card_budget_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_budget_years")),
        sa.UniqueConstraint("line_id", "year", name=op.f("uq_card_budget_years_line_id_year")),
    )
    with op.batch_alter_table("card_budget_years") as batch:
        batch.create_index(batch.f("ix_card_budget_years_line_id"), ["line_id"], unique=False)

    connection = op.get_bind()
    lines = connection.execute(
        sa.text(
            "SELECT l.id, l.amount_cents, c.start_year, c.end_year FROM card_budget_lines l "
            "JOIN cards k ON k.id = l.card_id JOIN planning_cycles c ON c.id = k.cycle_id "
            "WHERE l.amount_cents IS NOT NULL ORDER BY l.id"
        )
    ).all()
    parts = []
    for line_id, amount, start, end in lines:
        years = list(range(start, end + 1))
        share, rest = divmod(amount, len(years))
        for year in years:
            parts.append(
                {"line_id": line_id, "year": year, "amount_cents": share + (rest if year == years[-1] else 0)}
            )
    if parts:
        connection.execute(
            sa.text(
                "INSERT INTO card_budget_years (line_id, year, amount_cents) VALUES (:line_id, :year, :amount_cents)"
            ),
            parts,
        )


def downgrade():
    with op.batch_alter_table("card_budget_years") as batch:
        batch.drop_index(batch.f("ix_card_budget_years_line_id"))
    op.drop_table("card_budget_years")
    with op.batch_alter_table("fund_allocations") as batch:
        batch.drop_index(batch.f("ix_fund_allocations_year"))
    op.drop_table("fund_allocations")
