"""Places in rehab slots and activities: the weekly schedule as bookable times, and claiming.

Capacity is never exceeded, whatever runs concurrently: a place is taken with one
conditional UPDATE (booked = booked + 1 WHERE booked < capacity) whose row count says
whether it was won, in the same savepoint as the booking row it is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bookings import (
    ACTIVE,
    NUMBER_OFFSET,
    NUMBER_PREFIX,
    SELF,
    SHANGHAI,
    Activity,
    Booking,
    RehabSlot,
    WeeklySession,
)

Place = type[RehabSlot] | type[Activity]


@dataclass(frozen=True)
class SlotOffer:
    """A bookable time: a weekly session on a date, with the places still free."""

    weekly: WeeklySession
    day: date
    starts_at: datetime
    ends_at: datetime
    left: int


@dataclass(frozen=True)
class Outcome:
    """What a booking attempt came to: booked (with the booking), full, or duplicate."""

    status: Literal["booked", "full", "duplicate"]
    booking: Booking | None = None


def at_local(day: date, clock: time) -> datetime:
    """The aware datetime of a local (Asia/Shanghai) date and clock time."""
    return datetime.combine(day, clock, SHANGHAI)


async def slot_offers(
    session: AsyncSession, station_id: int, now: datetime, days: int = 14
) -> list[SlotOffer]:
    """Every session of a station from now for `days` days, soonest first, with places left."""
    stmt = select(WeeklySession).where(
        WeeklySession.station_id == station_id, WeeklySession.active.is_(True)
    )
    weekly = list((await session.scalars(stmt)).all())
    first = now.astimezone(SHANGHAI).date()
    slots = await session.scalars(
        select(RehabSlot)
        .where(
            RehabSlot.weekly_session_id.in_([w.id for w in weekly]),
            RehabSlot.day >= first,
            RehabSlot.day < first + timedelta(days=days),
        )
        .execution_options(populate_existing=True)
    )
    taken = {(s.weekly_session_id, s.day): s for s in slots}
    offers = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for w in weekly:
            if w.weekday != day.weekday() or at_local(day, w.start_time) <= now:
                continue
            slot = taken.get((w.id, day))
            left = slot.capacity - slot.booked if slot else w.capacity
            start, end = at_local(day, w.start_time), at_local(day, w.end_time)
            offers.append(SlotOffer(w, day, start, end, left))
    return sorted(offers, key=lambda o: (o.starts_at, o.weekly.id))


async def ensure_slot(session: AsyncSession, weekly_session_id: int, day: date) -> RehabSlot:
    """The slot of a weekly session on a date, created from the schedule if it is not there."""
    stmt = select(RehabSlot).where(
        RehabSlot.weekly_session_id == weekly_session_id, RehabSlot.day == day
    )
    slot = (await session.scalars(stmt)).first()
    if slot is not None:
        return slot
    weekly = await session.get(WeeklySession, weekly_session_id)
    if weekly is None or weekly.weekday != day.weekday():
        raise ValueError(f"weekly session {weekly_session_id} is not held on {day}")
    try:
        async with session.begin_nested():
            slot = RehabSlot(
                weekly_session_id=weekly.id,
                weekly=weekly,
                day=day,
                capacity=weekly.capacity,
                booked=0,
                starts_at=at_local(day, weekly.start_time),
                ends_at=at_local(day, weekly.end_time),
            )
            session.add(slot)
    except IntegrityError:  # another request created it meanwhile
        slot = (await session.scalars(stmt)).one()
    return slot


async def _claim_place(session: AsyncSession, model: Place, id_: int) -> bool:
    """Take one place with a single conditional UPDATE; False when none is left."""
    result = await session.execute(
        update(model)
        .where(model.id == id_, model.booked < model.capacity)
        .values(booked=model.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _release_place(session: AsyncSession, model: Place, id_: int) -> None:
    await session.execute(
        update(model)
        .where(model.id == id_, model.booked > 0)
        .values(booked=model.booked - 1)
        .execution_options(synchronize_session=False)
    )


async def _hold(session: AsyncSession, booking: Booking, model: Place, id_: int) -> Outcome:
    """Claim a place and store the booking in one savepoint: both happen or neither does."""
    try:
        async with session.begin_nested():
            if not await _claim_place(session, model, id_):
                return Outcome("full")
            session.add(booking)
            await session.flush()
    except IntegrityError:  # the same person already holds a place there
        return Outcome("duplicate")
    booking.number = f"{NUMBER_PREFIX}{NUMBER_OFFSET + booking.id}"
    await session.flush()
    return Outcome("booked", booking)


async def book_slot(
    session: AsyncSession,
    *,
    weekly_session_id: int,
    day: date,
    resident_id: int,
    person: str = SELF,
    relation: str | None = None,
) -> Outcome:
    """Book a place in a weekly session on a date for a person, if one is left."""
    slot = await ensure_slot(session, weekly_session_id, day)
    booking = Booking(
        kind="rehab",
        slot_id=slot.id,
        slot=slot,
        resident_id=resident_id,
        person=person,
        relation=relation,
        status=ACTIVE,
        starts_at=slot.starts_at,
    )
    return await _hold(session, booking, RehabSlot, slot.id)


async def book_activity(
    session: AsyncSession,
    *,
    activity_id: int,
    resident_id: int,
    person: str = SELF,
    relation: str | None = None,
) -> Outcome:
    """Sign a person up for an activity, if a place is left."""
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise ValueError(f"no activity {activity_id}")
    booking = Booking(
        kind="activity",
        activity_id=activity.id,
        activity=activity,
        resident_id=resident_id,
        person=person,
        relation=relation,
        status=ACTIVE,
        starts_at=activity.starts_at,
    )
    return await _hold(session, booking, Activity, activity.id)


def _place_of(booking: Booking) -> tuple[Place, int]:
    if booking.slot_id is not None:
        return RehabSlot, booking.slot_id
    if booking.activity_id is None:
        raise ValueError(f"booking {booking.number} holds neither a slot nor an activity")
    return Activity, booking.activity_id


async def cancel(session: AsyncSession, booking: Booking, now: datetime) -> bool:
    """Cancel a booking that is still booked and free its place; False if it was not booked."""
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == ACTIVE)
        .values(status="cancelled", cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await _release_place(session, *_place_of(booking))
    await session.refresh(booking)
    return True


async def reschedule(
    session: AsyncSession, booking: Booking, weekly_session_id: int, day: date
) -> Outcome:
    """Move a rehab booking to another slot, keeping its number; the old place is freed."""
    if booking.status != ACTIVE or booking.slot_id is None:
        raise ValueError(f"booking {booking.number} cannot be moved")
    old_slot_id = booking.slot_id
    slot = await ensure_slot(session, weekly_session_id, day)
    if slot.id == old_slot_id:
        return Outcome("duplicate")
    try:
        async with session.begin_nested():
            if not await _claim_place(session, RehabSlot, slot.id):
                return Outcome("full")
            booking.slot_id, booking.slot, booking.starts_at = slot.id, slot, slot.starts_at
            booking.reminded_at = None
            await session.flush()
    except IntegrityError:
        await session.refresh(booking)
        return Outcome("duplicate")
    await _release_place(session, RehabSlot, old_slot_id)
    return Outcome("booked", booking)
