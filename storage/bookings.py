"""Bookings (预约): rehab sessions at 吉康之家 stations and sign-ups for community activities.

One aggregate: stations and their therapists' weekly sessions, concrete slots per date
(made on demand from the weekly schedule, each with a booked counter), activities, and
the bookings themselves (number Y1001, kind rehab or activity). A place is claimed with
one conditional UPDATE (booked = booked + 1 WHERE booked < capacity), so no slot or
activity ever holds more bookings than its capacity, whatever runs concurrently.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")
NUMBER_PREFIX = "Y"
NUMBER_OFFSET = 1000
SELF = "本人"  # the person of a booking a resident makes for themself
ACTIVE = "booked"
_ACTIVE_ONLY = text("status = 'booked'")


class RehabStation(Base):
    """A 吉康之家 station: where rehab sessions are held, and when it is open."""

    __tablename__ = "rehab_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    opening_hours: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeeklySession(Base):
    """A therapist's weekly session at a station (e.g. 周二 9:00–10:00, 5 places)."""

    __tablename__ = "rehab_weekly_sessions"
    __table_args__ = (UniqueConstraint("station_id", "therapist", "weekday", "start_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("rehab_stations.id"), index=True)
    therapist: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int] = mapped_column()  # 0 = Monday … 6 = Sunday
    start_time: Mapped[time] = mapped_column(Time())
    end_time: Mapped[time] = mapped_column(Time())
    capacity: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    station: Mapped[RehabStation] = relationship(lazy="selectin")


class RehabSlot(Base):
    """One weekly session on one date, created when first booked; booked never exceeds capacity."""

    __tablename__ = "rehab_slots"
    __table_args__ = (UniqueConstraint("weekly_session_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    weekly_session_id: Mapped[int] = mapped_column(ForeignKey("rehab_weekly_sessions.id"))
    day: Mapped[date] = mapped_column(Date())
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column()
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    weekly: Mapped[WeeklySession] = relationship(lazy="selectin")


class Activity(Base):
    """A community activity with sign-up (义诊, a class, a festival event)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    place: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None] = mapped_column()
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Booking(Base):
    """A place a resident holds for someone (themself or a relative) in a slot or an activity.

    status is booked, cancelled, attended or no_show; person is the name of whom it is for
    (本人 for the resident), relation how the resident called them (我爸). Personal data.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_resident_status", "resident_id", "status"),
        Index("ix_bookings_status_starts", "status", "starts_at"),
        Index(
            "uq_bookings_slot_person",
            "slot_id",
            "resident_id",
            "person",
            unique=True,
            postgresql_where=_ACTIVE_ONLY,
            sqlite_where=_ACTIVE_ONLY,
        ),
        Index(
            "uq_bookings_activity_person",
            "activity_id",
            "resident_id",
            "person",
            unique=True,
            postgresql_where=_ACTIVE_ONLY,
            sqlite_where=_ACTIVE_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # rehab | activity
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("rehab_slots.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    person: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    starts_at: Mapped[datetime] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    marked_at: Mapped[datetime | None] = mapped_column()
    marked_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    slot: Mapped[RehabSlot | None] = relationship(lazy="selectin")
    activity: Mapped[Activity | None] = relationship(lazy="selectin")


async def list_stations(session: AsyncSession) -> list[RehabStation]:
    """Every station, in seed order."""
    return list((await session.scalars(select(RehabStation).order_by(RehabStation.id))).all())


def title_of(booking: Booking) -> str:
    """What the booking is for: the rehab service or the activity's title."""
    if booking.slot is not None:
        return booking.slot.weekly.service
    return booking.activity.title if booking.activity else "预约"


def place_of(booking: Booking) -> str:
    """Where to go: the station of a rehab booking, the place of an activity."""
    if booking.slot is not None:
        return booking.slot.weekly.station.name
    return booking.activity.place if booking.activity else ""


def ends_of(booking: Booking) -> datetime | None:
    """When the booked session or activity ends, if known."""
    if booking.slot is not None:
        return booking.slot.ends_at
    return booking.activity.ends_at if booking.activity else None


async def booking_by_number(session: AsyncSession, number: str) -> Booking | None:
    """Look a booking up by the number printed to the resident (Y1001, y1001)."""
    stmt = select(Booking).where(Booking.number == number.strip().upper())
    return (await session.scalars(stmt)).first()


async def upcoming_bookings_of(
    session: AsyncSession, resident_id: int, now: datetime, kind: str | None = None
) -> list[Booking]:
    """A resident's bookings still to come, soonest first."""
    stmt = select(Booking).where(
        Booking.resident_id == resident_id, Booking.status == ACTIVE, Booking.starts_at > now
    )
    if kind:
        stmt = stmt.where(Booking.kind == kind)
    return list((await session.scalars(stmt.order_by(Booking.starts_at, Booking.id))).all())


async def upcoming_activities(session: AsyncSession, now: datetime, days: int) -> list[Activity]:
    """Activities starting within `days` days, soonest first."""
    stmt = select(Activity).where(
        Activity.starts_at > now, Activity.starts_at <= now + timedelta(days=days)
    )
    return list((await session.scalars(stmt.order_by(Activity.starts_at, Activity.id))).all())


async def claim_due_reminders(
    session: AsyncSession, now: datetime, ahead: timedelta
) -> list[Booking]:
    """Claim bookings starting within `ahead` that nobody reminded yet (once, across processes)."""
    due = select(Booking.id).where(
        Booking.status == ACTIVE,
        Booking.reminded_at.is_(None),
        Booking.starts_at > now,
        Booking.starts_at <= now + ahead,
    )
    claimed = []
    for booking_id in (await session.scalars(due.order_by(Booking.starts_at))).all():
        result = await session.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(booking_id)
    if not claimed:
        return []
    stmt = select(Booking).where(Booking.id.in_(claimed)).order_by(Booking.starts_at)
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


async def mark_attendance(
    session: AsyncSession, number: str, status: str, actor: str, now: datetime
) -> Booking | None:
    """Record that the person came (attended) or not (no_show); None if no such booking.

    A cancelled booking keeps its status (the returned booking shows it); a mark can be
    corrected (attended ↔ no_show). Called by the staff chat command and the admin API.
    """
    if status not in ("attended", "no_show"):
        raise ValueError(f"not an attendance status: {status}")
    booking = await booking_by_number(session, number)
    if booking is None:
        return None
    await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_((ACTIVE, "attended", "no_show")))
        .values(status=status, marked_at=now, marked_by=actor, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(booking)
    return booking


async def list_bookings(
    session: AsyncSession,
    *,
    kind: str | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Booking]:
    """Bookings newest first, for the admin list (`before_id` is the cursor)."""
    stmt = select(Booking)
    if kind:
        stmt = stmt.where(Booking.kind == kind)
    if status:
        stmt = stmt.where(Booking.status == status)
    if before_id is not None:
        stmt = stmt.where(Booking.id < before_id)
    return list((await session.scalars(stmt.order_by(Booking.id.desc()).limit(limit))).all())


def booking_item(booking: Booking) -> dict[str, object]:
    """One item of `GET /api/bookings`: starts_at in ISO 8601 local time."""
    return {
        "id": booking.id,
        "number": booking.number,
        "kind": booking.kind,
        "station": place_of(booking),
        "title": title_of(booking),
        "starts_at": booking.starts_at.astimezone(SHANGHAI).isoformat(),
        "status": booking.status,
        "resident": booking.resident_id,
        "person": booking.person,
    }
