"""search index: search_entries (tsvector + GIN on PostgreSQL; FTS5 table and triggers on SQLite)

After upgrading an existing database run `flask search-reindex` once to fill the index.

Revision ID: c3e9a7d1f2b4
Revises: f1a2b3c4d5e6
Create Date: 2026-11-30 22:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c3e9a7d1f2b4"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None

# unicode61 folds case and strips diacritics (perché = perche); FTS5 has no Italian stemmer, so the query
# side drops Italian inflection endings and asks for prefixes (docs/search.md); prefix='3' indexes 3-letter
# prefixes so those prefix queries stay index lookups.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, content, content='search_entries', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='3')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN"
    " INSERT INTO search_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);"
    " END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);"
    " INSERT INTO search_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tsv", sa.Text() if sqlite else postgresql.TSVECTOR(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "object_id", name=op.f("uq_search_entries_kind_object_id")),
    )
    op.create_index(op.f("ix_search_entries_body_id"), "search_entries", ["body_id"], unique=False)
    op.create_index("ix_search_entries_tsv", "search_entries", ["tsv"], unique=False, postgresql_using="gin")
    if sqlite:
        for statement in SQLITE_DDL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_entries_au", "search_entries_ad", "search_entries_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index("ix_search_entries_tsv", table_name="search_entries")
    op.drop_index(op.f("ix_search_entries_body_id"), table_name="search_entries")
    op.drop_table("search_entries")
