"""How bookings are said to residents: dates and times, for whom, one booking on one line.

Shared by rehab booking, booking changes, the reminder, progress lines, and activity
sign-up.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers.context import Context
from nlu.timeparse import SHANGHAI
from storage.bookings import SELF, Booking, place_of, title_of

REMIND_AHEAD = timedelta(hours=24)  # the reminder goes out the day before
WEEKDAY_NAMES = "一二三四五六日"
TIME_TAILS = "点时半分号日整"
# how the bot names a parent formally (为您母亲预约); other relatives keep their word
FORMAL = {
    **dict.fromkeys(("妈", "妈妈", "老妈", "娘", "老娘", "母亲"), "母亲"),
    **dict.fromkeys(("爸", "爸爸", "老爸", "爹", "老爹", "父亲"), "父亲"),
}
OWNERS = ("我们家", "俺们家", "咱们家", "我家", "俺家", "咱家", "我的", "俺的", "我", "俺", "咱")


def time_expression(ctx: Context) -> str | None:
    """The time the resident wrote, spanning every time entity NLU marked (下 + 周四 → 下周四)."""
    spans = (
        [(e.start, e.end) for e in ctx.parse.entities if e.entity == "time"] if ctx.parse else []
    )
    if not spans:
        return None
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    while end < len(ctx.text) and ctx.text[end] in TIME_TAILS:  # NLU may stop at 九 of 九点
        end += 1
    return ctx.text[start:end].strip() or None


def day_text(day: date) -> str:
    """12月1日（周二）."""
    return f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"


def clock_text(moment: datetime) -> str:
    """上午9:00 / 下午2:30, in Asia/Shanghai."""
    local = moment.astimezone(SHANGHAI)
    part = "上午" if local.hour < 12 else "中午" if local.hour < 13 else "下午"
    hour = local.hour - 12 if local.hour >= 13 else local.hour
    return f"{part}{hour}:{local:%M}"


def when_text(start: datetime, end: datetime | None = None) -> str:
    """12月1日（周二）上午9:00-10:00, in Asia/Shanghai."""
    until = ""
    if end is not None:
        local = end.astimezone(SHANGHAI)
        until = f"-{local.hour - 12 if local.hour >= 13 else local.hour}:{local:%M}"
    return f"{day_text(start.astimezone(SHANGHAI).date())}{clock_text(start)}{until}"


def kin_of(relation: str) -> tuple[str, str]:
    """The relative's word without its owner, and 家 if the owner said it: 我家老头子 → 老头子."""
    for owner in OWNERS:
        if relation.startswith(owner) and len(relation) > len(owner):
            return relation[len(owner) :], "家" if "家" in owner else ""
    return relation, ""


def person_label(relation: str) -> str:
    """Whom a booking is for when no name was given: 我妈 → 母亲, 我家老头子 → 老头子."""
    kin, _ = kin_of(relation)
    return FORMAL.get(kin, kin)


def called(relation: str | None) -> str:
    """How the bot names the relative to the resident: 我妈 → 您母亲, 我家老头子 → 您家老头子."""
    if not relation:
        return "您家人"
    kin, home = kin_of(relation)
    return f"您{home}{FORMAL.get(kin, kin)}"


def who_text(person: str, relation: str | None) -> str:
    """您本人, 您母亲, or 您父亲（王建华）."""
    if person == SELF:
        return "您本人"
    if relation and person == person_label(relation):
        return called(relation)
    return f"{called(relation)}（{person}）"


def booking_summary(booking: Booking) -> str:
    """12月1日（周二）上午9:00 东关社区吉康之家 肢体康复训练."""
    return f"{when_text(booking.starts_at)} {place_of(booking)} {title_of(booking)}"
