"""Dead letters: outbound messages the outbox gave up on, for staff to list and retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utcnow
from storage.messages import FAILED, PENDING, Message
from storage.residents import Conversation


@dataclass(frozen=True)
class DeadLetter:
    """An outbound message the outbox gave up on, for staff to see and retry."""

    message_id: int
    platform: str
    user_id: str
    chat_id: str
    text: str
    attempts: int
    last_error: str | None
    created_at: datetime


async def failed_deliveries(session: AsyncSession, limit: int = 100) -> list[DeadLetter]:
    """Outbound messages in the dead-letter state (FAILED), oldest first, with last_error."""
    rows = await session.execute(
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == "out", Message.status == FAILED)
        .order_by(Message.id)
        .limit(limit)
    )
    return [
        DeadLetter(
            message_id=m.id,
            platform=m.platform,
            user_id=c.user_id,
            chat_id=c.chat_id,
            text=m.text or "",
            attempts=m.attempts,
            last_error=m.last_error,
            created_at=m.created_at,
        )
        for m, c in rows.all()
    ]


async def retry_failed(session: AsyncSession, message_ids: list[int] | None = None) -> int:
    """Put dead letters (these ids, or all when None) back to pending with attempts reset."""
    stmt = update(Message).where(Message.direction == "out", Message.status == FAILED)
    if message_ids is not None:
        stmt = stmt.where(Message.id.in_(message_ids))
    result = await session.execute(
        stmt.values(status=PENDING, attempts=0, next_attempt_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
