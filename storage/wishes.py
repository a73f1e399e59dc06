"""Micro-wishes (微心愿) and the registered volunteers who claim and fulfil them.

A wish moves submitted → approved (or rejected) → claimed → fulfilled, and the resident may
then thank the volunteer. Every step is a conditional UPDATE on the state it starts from,
so two volunteers claiming at once, or a repeated command, change the row only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow

PREFIX = "X"
NUMBER_OFFSET = 1000
PUBLIC_STATUSES = ("approved", "claimed", "fulfilled")
OPEN_STATUSES = ("submitted", "approved", "claimed")


class Volunteer(Base):
    """A registered volunteer (党员志愿者, 帮客) with the chat identity their commands come from."""

    __tablename__ = "volunteers"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Wish(Base):
    """A resident's micro-wish; wish, for_whom and due_text are the public words only."""

    __tablename__ = "wishes"
    __table_args__ = (Index("ix_wishes_resident_status", "resident_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    wish: Mapped[str] = mapped_column(String(200))
    for_whom: Mapped[str] = mapped_column(String(32))
    due_text: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reject_reason: Mapped[str | None] = mapped_column(String(255))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column()
    fulfilled_at: Mapped[datetime | None] = mapped_column()
    fulfil_note: Mapped[str | None] = mapped_column(String(255))
    thanks_note: Mapped[str | None] = mapped_column(String(255))
    thanked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


async def create_wish(
    session: AsyncSession,
    *,
    resident_id: int,
    conversation_id: int | None,
    wish: str,
    for_whom: str,
    due_text: str | None,
    now: datetime,
) -> Wish:
    """Record a submitted wish and give it the number residents and volunteers type (X1001)."""
    row = Wish(
        resident_id=resident_id,
        conversation_id=conversation_id,
        wish=wish[:200],
        for_whom=for_whom[:32],
        due_text=due_text[:32] if due_text else None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    row.number = f"{PREFIX}{NUMBER_OFFSET + row.id}"
    await session.flush()
    return row


async def wish_by_number(session: AsyncSession, number: str) -> Wish | None:
    """Look a wish up by its printed number."""
    stmt = select(Wish).where(Wish.number == number.upper())
    return (await session.scalars(stmt)).first()


async def _change(session: AsyncSession, wish: Wish, *where: Any, **values: Any) -> bool:
    """Apply values only while the row still matches where; refresh and report success."""
    result = await session.execute(
        update(Wish)
        .where(Wish.id == wish.id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(wish)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def review(
    session: AsyncSession,
    wish: Wish,
    *,
    approve: bool,
    reviewer_id: int,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """Approve or reject a submitted wish; False when it was already reviewed."""
    return await _change(
        session,
        wish,
        Wish.status == "submitted",
        status="approved" if approve else "rejected",
        reviewer_id=reviewer_id,
        reviewed_at=now,
        reject_reason=None if approve else (reason or "")[:255],
        updated_at=now,
    )


async def claim(session: AsyncSession, wish: Wish, volunteer_id: int, now: datetime) -> bool:
    """Claim an approved wish for a volunteer; only the first claim wins."""
    return await _change(
        session,
        wish,
        Wish.status == "approved",
        Wish.volunteer_id.is_(None),
        status="claimed",
        volunteer_id=volunteer_id,
        claimed_at=now,
        updated_at=now,
    )


async def fulfil(
    session: AsyncSession, wish: Wish, volunteer_id: int, note: str | None, now: datetime
) -> bool:
    """Mark a claimed wish fulfilled by the volunteer who claimed it."""
    return await _change(
        session,
        wish,
        Wish.status == "claimed",
        Wish.volunteer_id == volunteer_id,
        status="fulfilled",
        fulfilled_at=now,
        fulfil_note=note[:255] if note else None,
        updated_at=now,
    )


async def thank(
    session: AsyncSession, wish: Wish, resident_id: int, note: str, now: datetime
) -> bool:
    """Record the resident's thank-you note once, after fulfilment."""
    return await _change(
        session,
        wish,
        Wish.status == "fulfilled",
        Wish.resident_id == resident_id,
        Wish.thanked_at.is_(None),
        thanks_note=note[:255],
        thanked_at=now,
        updated_at=now,
    )


async def add_detail(
    session: AsyncSession, wish: Wish, resident_id: int, words: str, now: datetime
) -> bool:
    """Add the resident's later words to a wish still waiting for its check (submitted)."""
    text = f"{wish.wish}；{words}"
    if len(text) > 200:
        return False
    result = await session.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.status == "submitted", Wish.resident_id == resident_id)
        .values(wish=text, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(wish)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def public_wishes(session: AsyncSession, limit: int = 50) -> list[Wish]:
    """Wishes shown on the public list (approved, claimed, fulfilled), newest first."""
    stmt = (
        select(Wish).where(Wish.status.in_(PUBLIC_STATUSES)).order_by(Wish.id.desc()).limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def wishes_of(session: AsyncSession, resident_id: int, limit: int = 5) -> list[Wish]:
    """A resident's wishes still moving (or fulfilled and not yet thanked), newest first."""
    unthanked = (Wish.status == "fulfilled") & Wish.thanked_at.is_(None)
    stmt = (
        select(Wish)
        .where(Wish.resident_id == resident_id, Wish.status.in_(OPEN_STATUSES) | unthanked)
        .order_by(Wish.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def volunteer_by_identity(
    session: AsyncSession, platform: str, user_id: str
) -> Volunteer | None:
    """The volunteer who chats under this platform identity, if any."""
    stmt = select(Volunteer).where(
        Volunteer.platform == platform, Volunteer.platform_user_id == user_id
    )
    return (await session.scalars(stmt)).first()


async def all_volunteers(session: AsyncSession) -> list[Volunteer]:
    """Every registered volunteer, oldest first."""
    return list((await session.scalars(select(Volunteer).order_by(Volunteer.id))).all())


async def seed_wishes(session: AsyncSession, data: dict[str, Any]) -> int:
    """Insert the seed file's volunteers not registered yet; return how many were added."""
    added = 0
    for item in data.get("volunteers", []):
        platform, user_id = item.get("platform", "generic"), item["user_id"]
        if await volunteer_by_identity(session, platform, user_id) is not None:
            continue
        session.add(
            Volunteer(
                name=item["name"],
                phone=item.get("phone"),
                team=item.get("team"),
                platform=platform,
                platform_user_id=user_id,
            )
        )
        added += 1
    await session.flush()
    return added


@dataclass(frozen=True)
class WishFilter:
    """The wish list's filters, as parsed from a query string (None: any)."""

    status: str | None = None
    cursor: int | None = None
    limit: int = 50


async def wish_rows(
    session: AsyncSession, wanted: WishFilter, *, public_only: bool = False
) -> list[Wish]:
    """Wishes, newest first; public_only (volunteers) keeps the public ones, whatever the status."""
    stmt = select(Wish)
    if public_only:
        stmt = stmt.where(Wish.status.in_(PUBLIC_STATUSES))
    elif wanted.status:
        stmt = stmt.where(Wish.status == wanted.status)
    if wanted.cursor is not None:
        stmt = stmt.where(Wish.id < wanted.cursor)
    return list((await session.scalars(stmt.order_by(Wish.id.desc()).limit(wanted.limit))).all())
