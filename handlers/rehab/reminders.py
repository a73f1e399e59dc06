"""The day-before reminder of every booking (rehab sessions and activity sign-ups)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services
from handlers.jobs import periodic
from handlers.rehab.wording import REMIND_AHEAD, when_text, who_text
from nlu.timeparse import SHANGHAI
from storage.bookings import SELF, Booking, claim_due_reminders, place_of, title_of
from storage.push import push_to_resident
from storage.residents import Resident


def reminder_text(booking: Booking, now: datetime) -> str:
    """The day-before reminder of a booking, in the resident's words."""
    today = now.astimezone(SHANGHAI).date()
    day = booking.starts_at.astimezone(SHANGHAI).date()
    near = {today: "今天", today + timedelta(days=1): "明天"}.get(day, "")
    who = "您" if booking.person == SELF else who_text(booking.person, booking.relation)
    if booking.slot is not None:
        weekly = booking.slot.weekly
        what = (
            f"【康复预约提醒】{near}{when_text(booking.starts_at, booking.slot.ends_at)}，"
            f"{who}在{place_of(booking)}（{weekly.station.address}）做{title_of(booking)}，"
            f"{weekly.therapist}老师。请提前10分钟到。"
        )
    else:
        what = (
            f"【活动提醒】{near}{when_text(booking.starts_at)}，{title_of(booking)}，"
            f"地点：{place_of(booking)}。{who}已报名，请准时参加。"
        )
    return what + f"去不了请回复“取消预约 {booking.number}”。"


@periodic(300)
async def remind_bookings(session: AsyncSession, services: Services, now: datetime) -> int:
    """Remind residents the day before their booking (each booking once, across processes)."""
    claimed = await claim_due_reminders(session, now, REMIND_AHEAD)
    for booking in claimed:
        resident = await session.get(Resident, booking.resident_id)
        if resident is not None:
            text = reminder_text(booking, now)
            await push_to_resident(session, resident, text, f"booking_reminder:{booking.number}")
    return len(claimed)
