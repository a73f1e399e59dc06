"""full-text search over message texts: a character-bigram index, backfilled

SQLite gets an FTS5 table (rowid = message id), PostgreSQL a tsvector table with a GIN
index; storage/search.py explains the tokens and is the only writer, except for the
triggers below that keep each row's month token in step with messages.created_at.

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


MONTH_TRIGGER = """
CREATE TRIGGER message_search_month AFTER UPDATE OF created_at ON messages
WHEN NEW.created_at IS NOT OLD.created_at
BEGIN
    UPDATE message_search SET tokens = 'm' || strftime('%Y%m', NEW.created_at) || substr(tokens, 8)
    WHERE rowid = NEW.id;
END
"""

PG_MONTH_FUNCTION = """
CREATE FUNCTION message_search_month() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE message_search
    SET tokens = ts_delete(tokens, 'm' || to_char(OLD.created_at AT TIME ZONE 'UTC', 'YYYYMM'))
        || to_tsvector('simple', 'm' || to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYYMM'))
    WHERE message_id = NEW.id;
    RETURN NEW;
END
$$
"""
PG_MONTH_TRIGGER = """
CREATE TRIGGER message_search_month AFTER UPDATE OF created_at ON messages FOR EACH ROW
WHEN (NEW.created_at IS DISTINCT FROM OLD.created_at) EXECUTE FUNCTION message_search_month()
"""


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5(tokens, tokenize='ascii', columnsize=0)"
        )
        # The month token (first, 7 characters) follows created_at if it is ever changed.
        # A batch migration that recreates messages on SQLite must recreate this trigger.
        op.execute(MONTH_TRIGGER)
    else:
        op.execute(
            "CREATE TABLE message_search ("
            "message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE, "
            "tokens TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_message_search_tokens ON message_search USING gin (tokens)")
        # finer statistics of the most common bigrams: better row estimates for the planner
        op.execute("ALTER TABLE message_search ALTER COLUMN tokens SET STATISTICS 1000")
        op.execute(PG_MONTH_FUNCTION)
        op.execute(PG_MONTH_TRIGGER)
    search.backfill(op.get_bind())


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER message_search_month")
    else:
        op.execute("DROP TRIGGER message_search_month ON messages")
        op.execute("DROP FUNCTION message_search_month()")
    op.execute("DROP TABLE message_search")
