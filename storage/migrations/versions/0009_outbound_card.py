"""outbound messages may carry a structured card (a WeCom textcard for tasks)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # A plain ADD COLUMN: a batch rebuild of messages on SQLite would drop the search
    # triggers of 0007.
    op.add_column("messages", sa.Column("card", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    # SQLite >= 3.35 drops a column in place; a batch rebuild would drop 0007's triggers.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE messages DROP COLUMN card")
    else:
        op.drop_column("messages", "card")
