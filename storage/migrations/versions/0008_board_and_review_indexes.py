"""indexes for the ticket board and conversation review at 100,000 tickets / 1M messages

Chosen with EXPLAIN on both databases over bench/admin_queries.py's data (see
docs/benchmarks.md): a grid's tickets of one state newest first, the SLA colours' due-time
conditions, messages by intent newest first (replaces the intent-only index) and by date.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKETS = (
    ("ix_tickets_grid_status_id", ["grid_id", "status", "id"]),
    ("ix_tickets_status_accept_due", ["status", "accept_due_at"]),
    ("ix_tickets_status_resolve_due", ["status", "resolve_due_at"]),
)


def upgrade() -> None:
    """Apply this revision."""
    for name, columns in TICKETS:
        op.create_index(name, "tickets", columns)
    op.drop_index("ix_messages_intent", table_name="messages")
    op.create_index("ix_messages_intent_id", "messages", ["intent", "id"])
    op.create_index("ix_messages_created_at", "messages", ["created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index("ix_messages_intent_id", table_name="messages")
    op.create_index("ix_messages_intent", "messages", ["intent"])
    for name, _ in TICKETS:
        op.drop_index(name, table_name="tickets")
