"""Seed the 吉康之家 stations with their weekly rehab sessions, and the community's activities.

seed/rehab.yml holds `rehab_stations` (each with `sessions`), seed/activities.yml holds
`activities`; times are local (Asia/Shanghai). Only what is missing is inserted.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bookings import SHANGHAI, Activity, RehabStation, WeeklySession

WEEKDAYS = {"周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6}


def _clock(value: str) -> time:
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


def _local(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def weekly_session(station_id: int, item: dict[str, Any]) -> WeeklySession:
    """A weekly session from its seed entry: {therapist, service, day: 周二, time: 09:00-10:00}."""
    start, end = str(item["time"]).split("-")
    return WeeklySession(
        station_id=station_id,
        therapist=item["therapist"],
        service=item["service"],
        weekday=WEEKDAYS[item["day"]],
        start_time=_clock(start),
        end_time=_clock(end),
        capacity=int(item["capacity"]),
        active=True,
    )


async def seed_rehab(session: AsyncSession, data: dict[str, Any]) -> int:
    """Insert the stations and weekly sessions not present yet; return how many rows."""
    added = 0
    for item in data.get("rehab_stations", []):
        stmt = select(RehabStation).where(RehabStation.code == item["code"])
        station = (await session.scalars(stmt)).first()
        if station is None:
            station = RehabStation(
                code=item["code"],
                name=item["name"],
                address=item["address"],
                opening_hours=item["opening_hours"],
                phone=item.get("phone"),
            )
            session.add(station)
            await session.flush()
            added += 1
        rows = await session.scalars(
            select(WeeklySession).where(WeeklySession.station_id == station.id)
        )
        known = {(w.therapist, w.weekday, w.start_time) for w in rows}
        for entry in item.get("sessions", []):
            weekly = weekly_session(station.id, entry)
            if (weekly.therapist, weekly.weekday, weekly.start_time) not in known:
                session.add(weekly)
                added += 1
    await session.flush()
    return added


async def seed_activities(session: AsyncSession, data: dict[str, Any]) -> int:
    """Insert the activities not present yet (by code); return how many."""
    known = set((await session.scalars(select(Activity.code))).all())
    added = 0
    for item in data.get("activities", []):
        if item["code"] in known:
            continue
        session.add(
            Activity(
                code=item["code"],
                title=item["title"],
                place=item["place"],
                starts_at=_local(item["starts_at"]),
                ends_at=_local(item["ends_at"]) if item.get("ends_at") else None,
                capacity=int(item["capacity"]),
                booked=0,
                description=item.get("description", ""),
            )
        )
        added += 1
    await session.flush()
    return added
