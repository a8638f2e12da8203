"""coedit: stored Yjs documents (compacted state + appended updates)

Revision ID: c0ed17a1b2c3
Revises: 92c6454d4e56
Create Date: 2026-11-30 13:00:00

Existing texts stay where they are (card values, minutes, SWOT entries, mandates): a document is started
from them the first time it is opened, under the unique (kind, ref_id) constraint, so nothing is lost and
nothing is copied twice.
"""
from alembic import op
import sqlalchemy as sa

import pdz.db

revision = 'c0ed17a1b2c3'
down_revision = '92c6454d4e56'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'coedit_docs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('snapshot', sa.LargeBinary(), nullable=False),
        sa.Column('snapshot_seq', sa.Integer(), nullable=False),
        sa.Column('updated_at', pdz.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coedit_docs')),
        sa.UniqueConstraint('kind', 'ref_id', name=op.f('uq_coedit_docs_kind')),
    )
    op.create_table(
        'coedit_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('doc_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', pdz.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_coedit_updates_author_id_users')),
        sa.ForeignKeyConstraint(['doc_id'], ['coedit_docs.id'], name=op.f('fk_coedit_updates_doc_id_coedit_docs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coedit_updates')),
        sa.UniqueConstraint('doc_id', 'seq', name=op.f('uq_coedit_updates_doc_id')),
    )


def downgrade():
    op.drop_table('coedit_updates')
    op.drop_table('coedit_docs')
