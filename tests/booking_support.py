"""Helpers of the booking and activity tests: a held clock, seeded sessions, direct bookings."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from sqlalchemy import select

from bot.runtime import RUNTIME
from handlers.jobs import PeriodicJob
from handlers.rehab.reminders import remind_bookings
from nlu.timeparse import SHANGHAI
from storage.booking_places import book_slot
from storage.bookings import Booking, RehabSlot, RehabStation, WeeklySession
from storage.residents import Resident, get_or_create_resident
from tests.db_helpers import fetch

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # a Monday morning
TUESDAY, THURSDAY = date(2026, 12, 1), date(2026, 12, 3)
NUMBER = re.compile(r"预约号 (Y\d{4,6})")
REMINDER_JOB = PeriodicJob("remind_bookings", 300, remind_bookings)


async def start_at(make_client, rasa_url, now=NOW):
    """The app under test with its clock held at `now`."""
    client = await make_client(rasa_url)
    client.app[RUNTIME].clock = lambda: now
    return client


async def weekly_id(session, station: str, weekday: int, start: time) -> int:
    """The weekly session of a seeded station on a weekday at a start time."""
    stmt = (
        select(WeeklySession.id)
        .join(RehabStation)
        .where(RehabStation.code == station, WeeklySession.weekday == weekday,
               WeeklySession.start_time == start)
    )  # fmt: skip
    return (await session.scalars(stmt)).one()


async def book_for(sessions, user: str, day: date, start: time, station: str = "JK01", **kw):
    """Book a place directly through the repository for a chat user; return the booking."""
    async with sessions() as s, s.begin():
        resident = await get_or_create_resident(s, "generic", user)
        weekly = await weekly_id(s, station, day.weekday(), start)
        outcome = await book_slot(
            s, weekly_session_id=weekly, day=day, resident_id=resident.id, **kw
        )
        assert outcome.status == "booked", outcome
        return outcome.booking


async def fill(sessions, day: date, start: time, station: str = "JK01") -> None:
    """Take every place left in a session, for other residents."""
    for i in range(5):
        async with sessions() as s, s.begin():
            resident = await get_or_create_resident(s, "generic", f"filler-{day}-{start}-{i}")
            weekly = await weekly_id(s, station, day.weekday(), start)
            await book_slot(s, weekly_session_id=weekly, day=day, resident_id=resident.id)


async def bookings_of(db_url: str, user: str) -> list[Booking]:
    """Every booking of a chat user, oldest first."""
    stmt = (
        select(Booking)
        .join(Resident, Resident.id == Booking.resident_id)
        .where(Resident.platform_user_id == user)
        .order_by(Booking.id)
    )
    return await fetch(db_url, stmt)


async def slot_booked(db_url: str, day: date, start: time) -> int:
    """The booked counter of the JK01 slot on a day at a start time."""
    moment = datetime.combine(day, start, SHANGHAI)
    rows = await fetch(db_url, select(RehabSlot.booked).where(RehabSlot.starts_at == moment))
    return rows[0] if rows else 0
