"""Delivery state of outbound messages: claim, mark sent, retry with backoff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.base import utcnow
from storage.messages import FAILED, PENDING, SENDING, SENT, Message
from storage.residents import Conversation

# Aliases made once: a fresh aliased() per call costs more CPU than the query it is in
# (SQLAlchemy adapts every column of a new alias), and it defeats the compiled-SQL cache.
_OTHER = aliased(Message, name="other")  # another reply of the same conversation
_INBOUND = aliased(Message, name="inbound")  # the message a reply answers
_THIS = aliased(Message, name="this")  # the reply a statement is about, by its id
_SAME_USER = aliased(Conversation, name="same_user")


def _other_reply(*where: ColumnElement[bool]) -> Exists:
    """EXISTS another outbound message of the row's conversation that matches where."""
    return exists().where(
        _OTHER.conversation_id == Message.conversation_id, _OTHER.direction == "out", *where
    )


# No earlier reply of the same conversation is still waiting or being sent.
_NOT_BLOCKED = ~_other_reply(_OTHER.id < Message.id, _OTHER.status.in_((PENDING, SENDING)))
# A later reply of the same conversation waits to be sent.
_LATER_WAITING = _other_reply(_OTHER.id > Message.id, _OTHER.status == PENDING)


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
    # A later reply of the conversation was waiting when this one was claimed: once this
    # one settles, look for the next in line (a reply committed during the send finds this
    # one unsettled and asks again shortly by itself).
    later_waiting: bool = True


async def due_deliveries(session: AsyncSession, limit: int = 50) -> list[int]:
    """Return ids of outbound messages due now whose earlier replies are all settled."""
    stmt = (
        select(Message.id)
        .where(
            Message.direction == "out",
            Message.status == PENDING,
            Message.next_attempt_at <= utcnow(),
            _NOT_BLOCKED,
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
    mine = select(_THIS.conversation_id).where(_THIS.id == message_id).scalar_subquery()
    rows = (
        await session.execute(
            select(_OTHER.status, _OTHER.next_attempt_at).where(
                _OTHER.conversation_id == mine,
                _OTHER.direction == "out",
                _OTHER.id < message_id,
                _OTHER.status.in_((PENDING, SENDING)),
            )
        )
    ).all()
    now = utcnow()
    times = [now if st == SENDING or at is None else at for st, at in rows]
    return status, min(times) if times else None


async def next_in_line(session: AsyncSession, message_id: int) -> int | None:
    """The earliest due reply of this message's conversation, when nothing earlier blocks it."""
    return await session.scalar(_NEXT_IN_LINE, {"message_id": message_id, "now": utcnow()})


_NEXT_IN_LINE = (
    select(Message.id)
    .where(
        Message.conversation_id
        == select(_THIS.conversation_id)
        .where(_THIS.id == bindparam("message_id"))
        .scalar_subquery(),
        Message.direction == "out",
        Message.status == PENDING,
        Message.next_attempt_at <= bindparam("now"),  # a later time: its own job waits for it
        _NOT_BLOCKED,
    )
    .order_by(Message.id)
    .limit(1)
)


# The statements of every delivery, built once (building them is a good part of their cost).
_CLAIM = (
    update(Message)
    .where(Message.id == bindparam("message_id"), Message.status == PENDING)
    .values(status=SENDING, next_attempt_at=bindparam("until"), attempts=Message.attempts + 1)
    .execution_options(synchronize_session=False)
)
_CLAIM_IN_ORDER = _CLAIM.where(_NOT_BLOCKED)
_LAST_INBOUND = (
    select(func.max(_SAME_USER.last_message_at))
    .where(
        _SAME_USER.platform == Conversation.platform,
        _SAME_USER.user_id == Conversation.user_id,
    )
    .scalar_subquery()
)
_CLAIMED = (
    select(
        Message.platform_msg_id,
        Message.platform,
        Message.text,
        Message.attempts,
        Message.card,
        Conversation.chat_id,
        Conversation.user_id,
        _INBOUND.platform_msg_id.label("reply_to"),
        _LAST_INBOUND.label("last_inbound_at"),
        _LATER_WAITING.label("later_waiting"),
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .outerjoin(_INBOUND, _INBOUND.id == Message.reply_to_id)
    .where(Message.id == bindparam("message_id"))
)
_MARK_SENT = (
    update(Message)
    .where(Message.id == bindparam("message_id"))
    .values(status=SENT, sent_at=bindparam("now"), next_attempt_at=None, last_error=None)
    .execution_options(synchronize_session=False)
)


async def claim_delivery(
    session: AsyncSession, message_id: int, lease: float, *, in_order: bool = False
) -> Delivery | None:
    """Take a pending outbound message for sending; None if another process has it.

    in_order also refuses it while an earlier reply of its conversation is unsettled.
    """
    until = utcnow() + timedelta(seconds=lease)
    result = await session.execute(
        _CLAIM_IN_ORDER if in_order else _CLAIM, {"message_id": message_id, "until": until}
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    row = (await session.execute(_CLAIMED, {"message_id": message_id})).one()
    return Delivery(
        message_id=message_id,
        delivery_id=row.platform_msg_id,
        platform=row.platform,
        chat_id=row.chat_id,
        user_id=row.user_id,
        text=row.text or "",
        reply_to=row.reply_to,
        attempts=row.attempts,
        last_inbound_at=row.last_inbound_at,
        card=row.card,
        later_waiting=bool(row.later_waiting),
    )


async def mark_sent(session: AsyncSession, message_id: int) -> None:
    """Record a successful send."""
    await session.execute(_MARK_SENT, {"message_id": message_id, "now": utcnow()})


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


def _lease_expired() -> ColumnElement[bool]:
    return and_(
        Message.direction == "out",
        Message.status == SENDING,
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at < utcnow()),
    )


async def expired_leases(session: AsyncSession, limit: int = 500) -> list[int]:
    """Ids of replies being sent whose lease ran out (their sender may have died mid-send)."""
    query = select(Message.id).where(_lease_expired()).order_by(Message.id).limit(limit)
    return list((await session.scalars(query)).all())


async def release_leases(session: AsyncSession, message_ids: Sequence[int]) -> int:
    """Return these replies to the pending queue, if their lease is still expired."""
    if not message_ids:
        return 0
    result = await session.execute(
        update(Message)
        .where(Message.id.in_(message_ids), _lease_expired())
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
