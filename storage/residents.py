"""Residents and their conversations with the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class Resident(Base):
    """A resident known by a platform identity; name, phone and address are personal data."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """One resident talking in one chat (a direct chat or a grid group) on one platform."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    last_message_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def get_or_create_resident(
    session: AsyncSession, platform: str, user_id: str, name: str | None = None
) -> Resident:
    """Return the resident with this platform identity, creating it on first contact."""
    stmt = select(Resident).where(
        Resident.platform == platform, Resident.platform_user_id == user_id
    )
    resident = (await session.scalars(stmt)).first()
    if resident is not None:
        return resident
    try:
        async with session.begin_nested():
            resident = Resident(platform=platform, platform_user_id=user_id, name=name)
            session.add(resident)
    except IntegrityError:
        resident = (await session.scalars(stmt)).one()
    return resident


async def get_or_create_conversation(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    user_id: str,
    *,
    user_name: str | None = None,
    is_group: bool = False,
    last_message_at: datetime | None = None,
) -> Conversation:
    """Return the conversation of a user in a chat, creating it (and the resident) if new."""
    stmt = select(Conversation).where(
        Conversation.platform == platform,
        Conversation.chat_id == chat_id,
        Conversation.user_id == user_id,
    )
    conversation = (await session.scalars(stmt)).first()
    if conversation is not None:
        return conversation
    resident = await get_or_create_resident(session, platform, user_id, user_name)
    try:
        async with session.begin_nested():
            conversation = Conversation(
                platform=platform,
                chat_id=chat_id,
                user_id=user_id,
                is_group=is_group,
                resident_id=resident.id,
                last_message_at=last_message_at,
            )
            session.add(conversation)
    except IntegrityError:
        conversation = (await session.scalars(stmt)).one()
    return conversation


# Every webhook runs this: built once, on the table (Core: no ORM bookkeeping per call).
_conversations = cast(Table, Conversation.__table__)
_TOUCH = (
    update(_conversations)
    .where(
        _conversations.c.platform == bindparam("p_platform"),
        _conversations.c.chat_id == bindparam("p_chat"),
        _conversations.c.user_id == bindparam("p_user"),
    )
    .values(last_message_at=bindparam("p_now"))
    .returning(_conversations.c.id)
)


async def touch_conversation(
    session: AsyncSession, platform: str, chat_id: str, user_id: str
) -> int | None:
    """Mark a known conversation's last message now and return its id (None if it is new)."""
    params = {"p_platform": platform, "p_chat": chat_id, "p_user": user_id, "p_now": utcnow()}
    return (await session.execute(_TOUCH, params)).scalar_one_or_none()


@dataclass(frozen=True)
class ConversationFilter:
    """The conversation list's filters, as parsed from a query string (None: any)."""

    handed_off: bool | None = None
    cursor: int | None = None
    limit: int = 50


async def conversation_rows(session: AsyncSession, wanted: ConversationFilter) -> list[Any]:
    """(Conversation, Resident) rows, newest first."""
    stmt = select(Conversation, Resident).join(Resident, Resident.id == Conversation.resident_id)
    if wanted.handed_off is not None:
        stmt = stmt.where(Conversation.handed_off.is_(wanted.handed_off))
    if wanted.cursor is not None:
        stmt = stmt.where(Conversation.id < wanted.cursor)
    stmt = stmt.order_by(Conversation.id.desc()).limit(wanted.limit)
    return list((await session.execute(stmt)).all())


async def handoff_queue(session: AsyncSession, limit: int = 200) -> list[Any]:
    """(Conversation, resident name) of every handed-off conversation, longest wait first."""
    stmt = (
        select(Conversation, Resident.name)
        .join(Resident, Resident.id == Conversation.resident_id)
        .where(Conversation.handed_off.is_(True))
        .order_by(Conversation.last_message_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).all())
