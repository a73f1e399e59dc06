"""every API token expires: expires_at required (existing ones given a date), indexed

Tokens printed by POST /api/users and `linli admin` had no expiry. Each such token now
expires 90 days after it was issued (the default `auth.api_token_days`), but not before a
week after this upgrade, so a running integration has time to get a new one. The index
serves the purge of expired tokens at each login.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIFETIME = timedelta(days=90)
GRACE = timedelta(days=7)


def upgrade() -> None:
    """Apply this revision."""
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer()),
        sa.column("created_at", storage.base.UTCDateTime(timezone=True)),
        sa.column("expires_at", storage.base.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    earliest = storage.base.utcnow() + GRACE
    rows = bind.execute(
        sa.select(tokens.c.id, tokens.c.created_at).where(tokens.c.expires_at.is_(None))
    ).all()
    for token_id, created_at in rows:
        expires = max(created_at + LIFETIME, earliest)
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=expires))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=storage.base.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index(batch_op.f("ix_api_tokens_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_expires_at"))
        batch_op.alter_column(
            "expires_at", existing_type=storage.base.UTCDateTime(timezone=True), nullable=True
        )
