"""Delivery state of outbound messages: claim, mark sent, retry with backoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.base import utcnow
from storage.messages import FAILED, PENDING, SENDING, SENT, Message
from storage.residents import Conversation


@dataclass(frozen=True)
class Delivery:
    """One outbound message ready to hand to its platform connector."""

    message_id: int
    delivery_id: str
    platform: str
    chat_id: str
    user_id: str
    text: str
    reply_to: str | None
    attempts: int


async def due_deliveries(session: AsyncSession, limit: int = 50) -> list[int]:
    """Return ids of outbound messages due now whose earlier replies are all settled."""
    earlier = aliased(Message)
    blocked = exists().where(
        earlier.conversation_id == Message.conversation_id,
        earlier.direction == "out",
        earlier.id < Message.id,
        earlier.status.in_((PENDING, SENDING)),
    )
    stmt = (
        select(Message.id)
        .where(
            Message.direction == "out",
            Message.status == PENDING,
            Message.next_attempt_at <= utcnow(),
            ~blocked,
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def claim_delivery(session: AsyncSession, message_id: int, lease: float) -> Delivery | None:
    """Take a pending outbound message for sending; None if another process has it."""
    until = utcnow() + timedelta(seconds=lease)
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == PENDING)
        .values(status=SENDING, next_attempt_at=until, attempts=Message.attempts + 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    inbound = aliased(Message)
    row = (
        await session.execute(
            select(Message, Conversation, inbound.platform_msg_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .outerjoin(inbound, inbound.id == Message.reply_to_id)
            .where(Message.id == message_id)
        )
    ).one()
    message, conversation, reply_to = row
    return Delivery(
        message_id=message.id,
        delivery_id=message.platform_msg_id,
        platform=message.platform,
        chat_id=conversation.chat_id,
        user_id=conversation.user_id,
        text=message.text or "",
        reply_to=reply_to,
        attempts=message.attempts,
    )


async def mark_sent(session: AsyncSession, message_id: int) -> None:
    """Record a successful send."""
    now = utcnow()
    await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status=SENT, sent_at=now, next_attempt_at=None, last_error=None)
    )


async def mark_failed_attempt(
    session: AsyncSession,
    message_id: int,
    error: str,
    retry_at: datetime | None,
    *,
    counts: bool = True,
) -> None:
    """Record a failed send: retry at a time, or give up when retry_at is None.

    counts=False (a "not now" such as pacing) takes back the attempt the claim added.
    """
    values: dict[str, object] = {"last_error": error[:255]}
    if not counts:
        values["attempts"] = Message.attempts - 1
    if retry_at is None:
        values.update(status=FAILED, next_attempt_at=None)
    else:
        values.update(status=PENDING, next_attempt_at=retry_at)
    await session.execute(update(Message).where(Message.id == message_id).values(**values))


async def release_expired_leases(session: AsyncSession) -> int:
    """Return messages whose sender died mid-send to the pending queue."""
    result = await session.execute(
        update(Message)
        .where(
            and_(Message.direction == "out", Message.status == SENDING),
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at < utcnow()),
        )
        .values(status=PENDING, next_attempt_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
