"""Bookings in progress answers (查询): one line per booking, naming its step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.rehab.wording import booking_summary
from storage.base import utcnow
from storage.bookings import SELF, Booking, booking_by_number, upcoming_bookings_of

STEP_LABELS = {
    ("rehab", "booked"): "已预约，请按时到站",
    ("activity", "booked"): "已报名，请按时参加",
    ("rehab", "attended"): "已到站参加康复",
    ("activity", "attended"): "已参加",
    ("rehab", "no_show"): "未到站（已登记缺席）",
    ("activity", "no_show"): "未参加（已登记缺席）",
}


def status_line(booking: Booking) -> str:
    """One booking for check_status: number, what, when, where, for whom, and its step."""
    step = STEP_LABELS.get((booking.kind, booking.status), "已取消")
    who = "" if booking.person == SELF else f"（{booking.person}）"
    return f"预约 {booking.number} {booking_summary(booking)}{who}：{step}"


async def status_lines(
    session: AsyncSession, resident_id: int, now: datetime | None = None
) -> list[str]:
    """The resident's upcoming bookings for check_status, each naming its step."""
    upcoming = await upcoming_bookings_of(session, resident_id, now or utcnow())
    return [status_line(b) for b in upcoming]


async def status_line_of(session: AsyncSession, resident_id: int, number: str) -> str | None:
    """The line of one booking the resident quoted (查询 Y1001); None if it is not theirs."""
    booking = await booking_by_number(session, number)
    return status_line(booking) if booking and booking.resident_id == resident_id else None
