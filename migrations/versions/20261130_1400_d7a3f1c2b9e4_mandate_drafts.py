"""mandate drafts: the plain text of each body's co-written mandate draft

Revision ID: d7a3f1c2b9e4
Revises: c0ed17a1b2c3
Create Date: 2026-11-30 14:00:00

A draft row is written by the co-writing engine the first time someone writes in the draft; until then the
draft starts from the mandate in force, so nothing needs copying here.
"""

import sqlalchemy as sa
from alembic import op

import pdz.db

revision = "d7a3f1c2b9e4"
down_revision = "c0ed17a1b2c3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mandate_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("finalita_source", sa.Text(), nullable=False),
        sa.Column("attivita_source", sa.Text(), nullable=False),
        sa.Column("tempi_source", sa.Text(), nullable=False),
        sa.Column("step_valutazione_source", sa.Text(), nullable=False),
        sa.Column("risorse_umane_source", sa.Text(), nullable=False),
        sa.Column("updated_at", pdz.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["body_id"], ["bodies.id"], name=op.f("fk_mandate_drafts_body_id_bodies")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_mandate_drafts_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate_drafts")),
        sa.UniqueConstraint("body_id", name=op.f("uq_mandate_drafts_body_id")),
    )


def downgrade():
    op.drop_table("mandate_drafts")
