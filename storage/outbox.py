"""Delivery state of outbound messages: claim, mark sent, retry with backoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

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
    # The user's last message on this platform (any of their chats): platforms such as
    # WeChat allow free-form messages only within a window after it.
    last_inbound_at: datetime | None = None
    # A structured card (title, description, url, button) for platforms that show one.
    card: dict[str, Any] | None = None


async def due_deliveries(session: AsyncSession, limit: int = 50) -> list[int]:
    """Return ids of outbound messages due now whose earlier replies are all settled."""
    stmt = (
        select(Message.id)
        .where(
            Message.direction == "out",
            Message.status == PENDING,
            Message.next_attempt_at <= utcnow(),
            _not_blocked(),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def waiting_behind(
    session: AsyncSession, message_id: int
) -> tuple[str | None, datetime | None]:
    """The reply's own status, and when the earliest unsettled earlier reply of its
    conversation is next tried (None: nothing earlier is unsettled; mid-send counts as now)."""
    status = await session.scalar(select(Message.status).where(Message.id == message_id))
    earlier = aliased(Message)
    mine = select(Message.conversation_id).where(Message.id == message_id).scalar_subquery()
    rows = (
        await session.execute(
            select(earlier.status, earlier.next_attempt_at).where(
                earlier.conversation_id == mine,
                earlier.direction == "out",
                earlier.id < message_id,
                earlier.status.in_((PENDING, SENDING)),
            )
        )
    ).all()
    now = utcnow()
    times = [now if st == SENDING or at is None else at for st, at in rows]
    return status, min(times) if times else None


async def next_in_line(session: AsyncSession, message_id: int) -> int | None:
    """The earliest due reply of this message's conversation, when nothing earlier blocks it."""
    mine = select(Message.conversation_id).where(Message.id == message_id).scalar_subquery()
    return await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == mine,
            Message.direction == "out",
            Message.status == PENDING,
            Message.next_attempt_at <= utcnow(),  # a later time: its own job waits for it
            _not_blocked(),
        )
        .order_by(Message.id)
        .limit(1)
    )


def _not_blocked() -> ColumnElement[bool]:
    """No earlier reply of the same conversation is still waiting or being sent."""
    earlier = aliased(Message)
    return ~exists().where(
        earlier.conversation_id == Message.conversation_id,
        earlier.direction == "out",
        earlier.id < Message.id,
        earlier.status.in_((PENDING, SENDING)),
    )


async def claim_delivery(
    session: AsyncSession, message_id: int, lease: float, *, in_order: bool = False
) -> Delivery | None:
    """Take a pending outbound message for sending; None if another process has it.

    in_order also refuses it while an earlier reply of its conversation is unsettled.
    """
    until = utcnow() + timedelta(seconds=lease)
    conditions = [Message.id == message_id, Message.status == PENDING]
    if in_order:
        conditions.append(_not_blocked())
    result = await session.execute(
        update(Message)
        .where(*conditions)
        .values(status=SENDING, next_attempt_at=until, attempts=Message.attempts + 1)
        .execution_options(synchronize_session=False)
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
    last_inbound = await session.scalar(
        select(func.max(Conversation.last_message_at)).where(
            Conversation.platform == conversation.platform,
            Conversation.user_id == conversation.user_id,
        )
    )
    return Delivery(
        message_id=message.id,
        delivery_id=message.platform_msg_id,
        platform=message.platform,
        chat_id=conversation.chat_id,
        user_id=conversation.user_id,
        text=message.text or "",
        reply_to=reply_to,
        attempts=message.attempts,
        last_inbound_at=last_inbound,
        card=message.card,
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


async def claim_first_reply(
    session: AsyncSession, platform: str, platform_msg_id: str, lease: float
) -> Delivery | bool:
    """Claim the first reply to an inbound message for a passive (in-response) answer.

    True: no reply yet, or the outbox holds it for a moment, or an earlier reply of the chat
    is still unsent (ask again later). False: it can no longer go passively (sent or failed).
    A Delivery: claimed (SENDING under a lease) by a conditional UPDATE, so the outbox cannot
    send it too.
    """
    inbound = await session.scalar(
        select(Message.id).where(
            Message.platform == platform,
            Message.platform_msg_id == platform_msg_id,
            Message.direction == "in",
        )
    )
    if inbound is None:
        return True
    first = (
        await session.execute(
            select(Message.id, Message.status)
            .where(Message.reply_to_id == inbound, Message.direction == "out")
            .order_by(Message.id)
            .limit(1)
        )
    ).first()
    if first is None or first.status == SENDING:  # the outbox may be handing it back
        return True
    if first.status != PENDING:
        return False
    claimed = await claim_delivery(session, first.id, lease, in_order=True)
    # not claimed: the outbox took it a moment ago, or an earlier reply is still unsent
    return claimed if claimed is not None else True


async def release_claim(session: AsyncSession, message_id: int, error: str) -> None:
    """Give a claimed reply back to the outbox at once (the passive answer did not go out)."""
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == SENDING)
        .values(
            status=PENDING,
            attempts=Message.attempts - 1,
            next_attempt_at=utcnow(),
            last_error=error[:255],
        )
    )


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
