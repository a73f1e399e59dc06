"""When a home visit should be: a day and part of the day as said ("周五上午", "明天中午吧").

The time slot keeps [start as ISO, the words said]; the words are what the summary shows.
"哪天都行" / "随便哪天" means as soon as a provider can: the next morning.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handlers.engine.state import SlotValue
from nlu.timeparse import SHANGHAI, resolve_time

_WEEKDAY = r"[一二三四五六日天1-7]"
_DAY = (
    r"(?:大后天|后天|明天|今天|明儿"
    rf"|(?:这|本|下)(?:个)?(?:周|礼拜|星期){_WEEKDAY}?|(?:这|本|下)(?:个)?周末|周末"
    rf"|(?:周|星期|礼拜){_WEEKDAY}"
    r"|\d{1,2}月\d{1,2}(?:号|日)|(?<![一-龥\d])(?<!\d)\d{1,2}(?:号|日)(?!楼|院|单元|门))"
)
_PART = r"(?:早上|上午|中午|下午|傍晚|晚上)"
_CLOCK = r"(?:\d{1,2}(?:点|:)(?:半|\d{1,2}分?)?)"
_TIME = re.compile(rf"{_DAY}{_PART}?{_CLOCK}?|{_PART}{_CLOCK}?|(?<![\d.])\d{{1,2}}点(?:半)?")
_ANY_TIME = re.compile(
    r"哪天都(?:行|可以)|随便哪天|什么时候都(?:行|可以)|啥时候都(?:行|可以)|随时|尽快"
)
_DENIED = re.compile(r"不是\s*$|不\s*$")
_WEEK = re.compile(r"(?:这|本|下)(?:个)?(?:周|礼拜|星期)")
MORNING = 9  # the hour a visit "as soon as possible" or "on that day" is booked for


def soonest(now: datetime) -> datetime:
    """The earliest a provider can come when any time will do: the next morning."""
    local = now.astimezone(SHANGHAI)
    return (local + timedelta(days=1)).replace(hour=MORNING, minute=0, second=0, microsecond=0)


def _start(expr: str, now: datetime) -> datetime | None:
    span = resolve_time(expr, now)
    if span is None or span.end <= now:
        return None
    start = max(span.start, now)
    if span.end - span.start >= timedelta(hours=20):  # a whole day or more: its morning
        local = start.astimezone(SHANGHAI)
        morning = local.replace(hour=MORNING, minute=0, second=0, microsecond=0)
        if morning < local:
            morning += timedelta(days=1)
        start = max(morning, soonest(now)) if morning < span.end else start
        if start >= span.end:
            start = max(span.start, now)
    return start


def visit_time(text: str, now: datetime) -> SlotValue:
    """The visit time a message gives: [start ISO, words said], or None."""
    for found in _TIME.finditer(text):
        if _DENIED.search(text[: found.start()]):
            continue
        start = _start(found.group(0), now)
        if start is not None:
            return [start.isoformat(), found.group(0)]
    if _ANY_TIME.search(text):
        return [soonest(now).isoformat(), ""]
    return None


def start_of(value: SlotValue, now: datetime) -> datetime:
    """The visit's start (the next morning when no time was given)."""
    if isinstance(value, list) and value:
        return datetime.fromisoformat(value[0])
    return soonest(now)


def shown(value: SlotValue, now: datetime) -> str:
    """The time as the summary shows it: 12月1日（明天中午）."""
    if not isinstance(value, list) or not value:
        return "接单后和您电话约"
    start = datetime.fromisoformat(value[0]).astimezone(SHANGHAI)
    said = value[1] if len(value) > 1 else ""
    day = f"{start.month}月{start.day}日"
    if not said:
        return f"尽快，最早{day}"
    if _WEEK.fullmatch(said):  # "这周" / "下礼拜": any day of that week
        return f"{said}内，最早{day}"
    return f"{day}（{said}）"
