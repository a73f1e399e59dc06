"""messages by UTC day, then id: exact id bounds of a date window for search

A date window's messages lie between the lowest id of its first day and the highest id of
its last day, whatever order ids and created_at are in (imports, backfills, edited dates):
storage/search.py reads those from this index, two probes per day, and the search walks
only that id range. The day is an expression, so the models do not describe the index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

from storage import search

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # A batch migration that recreates messages on SQLite must recreate this index.
    day = search.day_of_created_at(op.get_bind().dialect.name)
    op.execute(f"CREATE INDEX {search.DAY_INDEX} ON messages ({day}, id)")


def downgrade() -> None:
    """Revert this revision."""
    op.execute(f"DROP INDEX {search.DAY_INDEX}")
