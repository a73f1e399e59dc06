"""pending_requests: a request left in the middle, so silence never loses what was said

The conversation engine keeps one row per conversation while a request waits for the
resident (the dialogue state in Redis expires); the silence job follows up once and then
files a ticket or tells staff (handlers/silence.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "pending_requests",
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), primary_key=True
        ),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=False),
        sa.Column("form", sa.String(32), nullable=False),
        sa.Column("title", sa.String(32), nullable=False, server_default=""),
        sa.Column("on_silence", sa.String(8), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("location", sa.String(255), nullable=True),
        sa.Column("said", sa.Text(), nullable=False),
        sa.Column("updated_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("followed_up_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ticket_number", sa.String(16), nullable=True),
    )
    op.create_index("ix_pending_requests_updated_at", "pending_requests", ["updated_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_pending_requests_updated_at", table_name="pending_requests")
    op.drop_table("pending_requests")
