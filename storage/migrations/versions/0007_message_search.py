"""full-text search over message texts: a character-bigram index, backfilled

SQLite gets an FTS5 table (rowid = message id), PostgreSQL a tsvector table with a GIN
index; storage/search.py explains the tokens and is the only writer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from storage import search

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5("
            "tokens, tokenize='ascii', columnsize=0)"
        )
    else:
        op.execute(
            "CREATE TABLE message_search ("
            "message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE, "
            "tokens TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_message_search_tokens ON message_search USING gin (tokens)")
    search.backfill(op.get_bind())


def downgrade() -> None:
    """Revert this revision."""
    op.execute("DROP TABLE message_search")
