"""NLU review: staff relabel messages the model was unsure about; corrections become data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow
from storage.messages import Message


class NluCorrection(Base):
    """The intent a staff member says an inbound message really had."""

    __tablename__ = "nlu_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    intent: Mapped[str] = mapped_column(String(64))
    corrected_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def doubtful_messages(
    session: AsyncSession, max_confidence: float, cursor: int | None, limit: int
) -> list[Message]:
    """Inbound messages with a fallback or a low-confidence intent, not yet corrected."""
    corrected = select(NluCorrection.message_id)
    stmt = select(Message).where(
        Message.direction == "in",
        Message.intent.is_not(None),
        or_(Message.intent == "nlu_fallback", Message.confidence < max_confidence),
        Message.id.not_in(corrected),
    )
    if cursor is not None:
        stmt = stmt.where(Message.id < cursor)
    return list((await session.scalars(stmt.order_by(Message.id.desc()).limit(limit))).all())


async def correct(session: AsyncSession, message: Message, intent: str, who: str) -> NluCorrection:
    """Record (or replace) the corrected intent of a message."""
    stmt = select(NluCorrection).where(NluCorrection.message_id == message.id)
    found = (await session.scalars(stmt)).first()
    if found is None:
        found = NluCorrection(message_id=message.id, intent=intent, corrected_by=who)
        session.add(found)
    else:
        found.intent, found.corrected_by = intent, who
    await session.flush()
    return found


async def corrections(session: AsyncSession) -> list[tuple[str, str]]:
    """Every (intent, text) pair corrected so far, for the training data."""
    stmt = (
        select(NluCorrection.intent, Message.text)
        .join(Message, Message.id == NluCorrection.message_id)
        .order_by(NluCorrection.intent, NluCorrection.id)
    )
    return [(intent, text or "") for intent, text in (await session.execute(stmt)).all()]


async def correction_count(session: AsyncSession) -> int:
    """How many relabellings are stored (they go into the next training)."""
    return await session.scalar(select(func.count(NluCorrection.id))) or 0
