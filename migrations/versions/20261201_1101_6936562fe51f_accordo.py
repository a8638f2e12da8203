"""accordo di programma: one per planning cycle, its signatories with their signatures, its amendments

Revision ID: 6936562fe51f
Revises: c3a9f1e7d2b4
Create Date: 2026-12-01 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "6936562fe51f"
down_revision = "c3a9f1e7d2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "accordi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_accordi_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["planning_cycles.id"], name=op.f("fk_accordi_cycle_id_planning_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accordi")),
        sa.UniqueConstraint("cycle_id", name=op.f("uq_accordi_cycle_id")),
    )
    op.create_table(
        "accordo_signatories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accordo_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accordo_id"],
            ["accordi.id"],
            name=op.f("fk_accordo_signatories_accordo_id_accordi"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_accordo_signatories_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_accordo_signatories_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accordo_signatories")),
        sa.UniqueConstraint(
            "accordo_id", "organisation_id", name=op.f("uq_accordo_signatories_accordo_id_organisation_id")
        ),
    )
    with op.batch_alter_table("accordo_signatories") as batch:
        batch.create_index(batch.f("ix_accordo_signatories_accordo_id"), ["accordo_id"], unique=False)
        batch.create_index(
            batch.f("ix_accordo_signatories_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "accordo_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accordo_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description_source", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accordo_id"],
            ["accordi.id"],
            name=op.f("fk_accordo_amendments_accordo_id_accordi"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_accordo_amendments_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accordo_amendments")),
    )
    with op.batch_alter_table("accordo_amendments") as batch:
        batch.create_index(batch.f("ix_accordo_amendments_accordo_id"), ["accordo_id"], unique=False)


def downgrade():
    with op.batch_alter_table("accordo_amendments") as batch:
        batch.drop_index(batch.f("ix_accordo_amendments_accordo_id"))
    op.drop_table("accordo_amendments")
    with op.batch_alter_table("accordo_signatories") as batch:
        batch.drop_index(batch.f("ix_accordo_signatories_organisation_id"))
        batch.drop_index(batch.f("ix_accordo_signatories_accordo_id"))
    op.drop_table("accordo_signatories")
    op.drop_table("accordi")
