"""Every inbound and outbound message, with its NLU result and processing state."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from storage import search
from storage.base import Base, utcnow

RECEIVED = "received"
DONE = "done"
FAILED = "failed"
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
OUTBOUND = "linli.outbound"  # session.info key: replies recorded in the session


class Message(Base):
    """A message in a conversation: inbound from a resident or outbound from the bot."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("platform", "platform_msg_id"),
        Index("ix_messages_conv_status", "conversation_id", "status", "id"),
        Index("ix_messages_status_created", "status", "created_at"),
        Index("ix_messages_dir_status_next", "direction", "status", "next_attempt_at"),
        # conversation review (bot/api/messages.py), newest first: by intent, by date
        Index("ix_messages_intent_id", "intent", "id"),
        Index("ix_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_msg_id: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    nlu: Mapped[str | None] = mapped_column(Text)  # the parse result as JSON
    action: Mapped[str | None] = mapped_column(String(64))
    # A structured card (storage.cards.TaskCard.as_json) for platforms that show one; text stays.
    card: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()


@event.listens_for(Message, "after_insert")
def _index_for_search(mapper: Mapper[Message], connection: Connection, target: Message) -> None:
    """Every inserted message, inbound or outbound, goes into the search index at once."""
    search.index_message(connection, target.id, target.text, target.created_at)


async def store_inbound(
    session: AsyncSession,
    *,
    conversation_id: int,
    platform: str,
    platform_msg_id: str,
    text: str,
) -> Message | None:
    """Insert an inbound message; return None when the platform redelivered a known id."""
    message = Message(
        conversation_id=conversation_id,
        platform=platform,
        platform_msg_id=platform_msg_id,
        direction="in",
        text=text,
        status=RECEIVED,
    )
    try:
        async with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


@lru_cache(maxsize=2)
def _insert_inbound(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, created_at, built once per dialect on the
    table (Core: no ORM bookkeeping on the webhook's path)."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(cast(Table, Message.__table__))
        .on_conflict_do_nothing(index_elements=["platform", "platform_msg_id"])
        .returning(Message.__table__.c.id, Message.__table__.c.created_at)
    )


async def insert_inbound(
    session: AsyncSession,
    *,
    conversation_id: int,
    platform: str,
    platform_msg_id: str,
    text: str,
    action: str | None = None,
) -> int | None:
    """Insert an inbound message in one statement; its id, or None for a redelivered id."""
    values = {
        "conversation_id": conversation_id,
        "platform": platform,
        "platform_msg_id": platform_msg_id,
        "direction": "in",
        "text": text,
        "status": RECEIVED,
        "action": action,
    }
    dialect = session.get_bind().dialect.name
    row = (await session.execute(_insert_inbound(dialect), values)).one_or_none()
    if row is None:
        return None
    message_id, created_at = row
    # A Core insert skips the ORM's after_insert hook: index the text for search here.
    await session.run_sync(
        lambda sync: search.index_message(sync.connection(), message_id, text, created_at)
    )
    return int(message_id)


async def pending_in_conversation(session: AsyncSession, conversation_id: int) -> list[Message]:
    """Return the conversation's inbound messages not yet processed, oldest first."""
    stmt = (
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.status == RECEIVED,
            Message.direction == "in",
        )
        .order_by(Message.id)
    )
    return list((await session.scalars(stmt)).all())


_CLAIM = (
    update(Message)
    .where(Message.id == bindparam("message_id"), Message.status == RECEIVED)
    .values(status=DONE, processed_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


async def claim_for_processing(session: AsyncSession, message_id: int) -> bool:
    """Mark an inbound message done inside the caller's transaction; False if already done."""
    result = await session.execute(_CLAIM, {"message_id": message_id, "now": utcnow()})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def stale_received(
    session: AsyncSession, older_than: datetime, limit: int = 500
) -> list[tuple[int, int]]:
    """Return (message id, conversation id) of inbound messages still waiting since a time."""
    stmt = (
        select(Message.id, Message.conversation_id)
        .where(
            Message.status == RECEIVED,
            Message.direction == "in",
            Message.created_at < older_than,
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


def record_outbound(
    session: AsyncSession,
    *,
    conversation_id: int,
    platform: str,
    text: str,
    reply_to_id: int | None,
    action: str | None = None,
    card: dict[str, Any] | None = None,
) -> Message:
    """Insert an outbound message; its id is the idempotency key of its delivery."""
    message = Message(
        conversation_id=conversation_id,
        platform=platform,
        platform_msg_id=f"out-{uuid.uuid4().hex}",
        direction="out",
        text=text,
        status=PENDING,
        reply_to_id=reply_to_id,
        action=action,
        card=card,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.info.setdefault(OUTBOUND, []).append(message)
    return message


def first_outbound_ids(session: AsyncSession) -> list[int]:
    """After a flush: the first reply recorded in this session for each conversation."""
    firsts: dict[int, int] = {}
    for message in session.info.pop(OUTBOUND, []):
        if message.id is not None:
            earlier = firsts.get(message.conversation_id, message.id)
            firsts[message.conversation_id] = min(earlier, message.id)
    return sorted(firsts.values())


async def count_by_status(session: AsyncSession, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many messages are in each of these statuses (one GROUP BY)."""
    stmt = (
        select(Message.status, func.count())
        .where(Message.status.in_(statuses))
        .group_by(Message.status)
    )
    return {str(status): int(n) for status, n in (await session.execute(stmt)).all()}
