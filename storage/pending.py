"""Requests left in the middle: kept in SQL so silence never loses what a resident said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow

FILE = "file"  # on silence: file a ticket with what was said
NOTE = "note"  # on silence: tell staff what was asked


class PendingRequest(Base):
    """A conversation's unfinished request: what it is, what was said, when it went quiet."""

    __tablename__ = "pending_requests"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    form: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(32), default="")  # 康复预约, 报修 …
    on_silence: Mapped[str] = mapped_column(String(8))  # FILE or NOTE
    category: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(255))
    said: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    followed_up_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()  # filed or noted by the silence job
    ticket_number: Mapped[str | None] = mapped_column(String(16))


@dataclass(frozen=True)
class Unfinished:
    """What the engine knows of a request in the middle, as stored for the silence job."""

    conversation_id: int
    resident_id: int
    form: str
    on_silence: str
    category: str | None
    location: str | None
    said: str
    title: str = ""


async def keep_pending(session: AsyncSession, request: Unfinished, now: datetime) -> None:
    """Store (or refresh) the conversation's unfinished request."""
    row = await session.get(PendingRequest, request.conversation_id)
    if row is None:
        row = PendingRequest(conversation_id=request.conversation_id)
        session.add(row)
    row.resident_id = request.resident_id
    row.form = request.form
    row.title = request.title
    row.on_silence = request.on_silence
    row.category = request.category
    row.location = request.location
    row.said = request.said
    row.updated_at = now
    row.followed_up_at = None
    row.closed_at = None
    row.ticket_number = None


async def pending_of(session: AsyncSession, conversation_id: int) -> PendingRequest | None:
    """The conversation's stored request, if any."""
    return await session.get(PendingRequest, conversation_id)


async def drop_pending(session: AsyncSession, conversation_id: int) -> None:
    """The request ended (completed, withdrawn, or its outcome taken back by the engine)."""
    await session.execute(
        delete(PendingRequest).where(PendingRequest.conversation_id == conversation_id)
    )


async def quiet_since(session: AsyncSession, before: datetime) -> list[PendingRequest]:
    """Open requests whose last message is older than `before`, oldest first."""
    stmt = (
        select(PendingRequest)
        .where(PendingRequest.closed_at.is_(None), PendingRequest.updated_at < before)
        .order_by(PendingRequest.updated_at)
        .limit(200)
    )
    return list((await session.scalars(stmt)).all())


async def claim(session: AsyncSession, row: PendingRequest, column: str, now: datetime) -> bool:
    """Mark a request followed up or closed once, even with several workers running the job."""
    target = getattr(PendingRequest, column)
    result = await session.execute(
        update(PendingRequest)
        .where(
            PendingRequest.conversation_id == row.conversation_id,
            PendingRequest.updated_at == row.updated_at,
            target.is_(None),
        )
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def silent_for(row: PendingRequest, now: datetime) -> timedelta:
    """How long the resident has been quiet in this request."""
    updated = row.updated_at
    return now - updated
