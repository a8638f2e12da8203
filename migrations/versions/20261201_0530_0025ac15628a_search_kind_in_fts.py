"""search: the kind of each entry inside SQLite's FTS5 index, so one kind is matched without the others

The FTS5 table `search_fts` (external content `search_entries`) gains a third column, `kind`, read from
`search_entries.kind`: a query asks `kind : comment AND (...)` and FTS5 intersects the two lists itself
instead of enumerating every kind's matches (docs/search.md, Performance). Prefixes of 2 to 8 characters are
indexed (was 3 only): the query asks for stems as prefixes ("serviz"*), and a prefix longer than every indexed
one makes FTS5 merge the lists of every word that starts with it, for each kind asked and again for each row
highlighted (~2 ms each at x50); an indexed prefix is one list. The table and its triggers are recreated and
refilled from `search_entries` ('rebuild'). Both engines: an index on `(kind, id)`, which PostgreSQL walks
backwards for one kind's newest matches (the primary key would walk every newer row of every kind).

Revision ID: 0025ac15628a
Revises: e40cbc6b1655
Create Date: 2026-12-01 05:30:00
"""

from alembic import op

revision = "0025ac15628a"
down_revision = "e40cbc6b1655"
branch_labels = None
depends_on = None

TRIGGERS = ("search_entries_au", "search_entries_ad", "search_entries_ai")

WITH_KIND = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, content, kind, content='search_entries', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='2,3,4,5,6,7,8')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN"
    " INSERT INTO search_fts(rowid, title, content, kind) VALUES (new.id, new.title, new.content, new.kind); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, title, content, kind) VALUES ('delete', old.id, old.title, old.content, old.kind); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, title, content, kind) VALUES ('delete', old.id, old.title, old.content, old.kind);"
    " INSERT INTO search_fts(rowid, title, content, kind) VALUES (new.id, new.title, new.content, new.kind); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    "INSERT INTO search_fts(search_fts) VALUES ('optimize')",
]

WITHOUT_KIND = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, content, content='search_entries', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='3')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN"
    " INSERT INTO search_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN"
    " INSERT INTO search_fts(search_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);"
    " INSERT INTO search_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    "INSERT INTO search_fts(search_fts) VALUES ('optimize')",
]


def _recreate(statements: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    for statement in statements:
        op.execute(statement)


def upgrade():
    op.create_index("ix_search_entries_kind_id", "search_entries", ["kind", "id"], unique=False)
    _recreate(WITH_KIND)


def downgrade():
    _recreate(WITHOUT_KIND)
    op.drop_index("ix_search_entries_kind_id", table_name="search_entries")
