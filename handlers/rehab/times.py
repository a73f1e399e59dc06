"""When the resident wants to go: a day, a part of the day and a clock time, each optional.

Read from the words of one message (nlu.timeparse.time_words): 周四 / 下礼拜二 / 明天 / 12月3日,
上午 / 下午吧, 九点 / 两点半 / 十点那场. Of several words of a kind the first one not said
against counts (周四吧 周二他要去医院 → 周四; 下午吧 她上午起不来 → 下午), and after a word of
change only what follows it (换到周五, 改成下午, 周四九点那个改到周二吧 十点的 → 周二 十点).
A clock hour 1-6 with no part of the day is in the afternoon (两点半 → 14:30).

The wanted time is kept in a slot as three strings [day ISO, part, HH:MM] ("" when unsaid);
a later answer adds to it (九点那个 keeps the day; 换成下午 keeps the day, drops 九点).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from handlers.engine.state import SlotValue
from nlu.normalize import normalize
from nlu.timeparse import SHANGHAI, TimeWord, time_words

# words after which the time said is the new one (换到周五, 改成下午, 挪到下周一)
CHANGE = re.compile(r"换到|换成|改到|改成|改为|挪到|调到|推到|换个|改个|换在|改在|换|改")
PARTS = {"上午": (6, 12), "中午": (11, 14), "下午": (12, 18), "晚上": (17, 23)}
_DAY_OFFSETS = {"今天": 0, "今儿": 0, "明天": 1, "明儿": 1, "后天": 2, "大后天": 3}
_WEEK_SHIFT = (("下下", 2), ("下", 1), ("这", 0), ("本", 0), ("上", -1))
_PREFIXES = tuple(lead for lead, _ in _WEEK_SHIFT)


@dataclass(frozen=True)
class Wanted:
    """The time the resident asked for; None where they said nothing."""

    day: date | None = None
    part: str | None = None  # 上午 / 中午 / 下午 / 晚上
    clock: time | None = None
    weekday_only: bool = False  # the day was a bare weekday (周一): its next one, or any one

    def weekday_of(self) -> int | None:
        """The weekday said, when the day was a bare weekday (0 = Monday)."""
        return self.day.weekday() if self.day is not None and self.weekday_only else None

    @property
    def said(self) -> bool:
        """True when anything about the time was said."""
        return self.day is not None or self.part is not None or self.clock is not None

    def hours(self) -> tuple[int, int] | None:
        """The hours [first, last) of the part of the day, if one was said."""
        return PARTS.get(self.part) if self.part else None

    def fits(self, start: datetime, *, any_week: bool = False) -> bool:
        """Whether a session starting then is at the wanted time.

        any_week: a bare weekday fits that weekday of any week (the session already chosen
        on 下周一 is still "周一下午那个").
        """
        local = start.astimezone(SHANGHAI)
        if any_week and self.weekday_of() is not None:
            if local.weekday() != self.weekday_of():
                return False
        elif self.day is not None and local.date() != self.day:
            return False
        if self.clock is not None:
            return (local.hour, local.minute) == (self.clock.hour, self.clock.minute)
        hours = self.hours()
        return hours is None or hours[0] <= local.hour < hours[1]

    def value(self) -> SlotValue:
        """As kept in the slot."""
        return [
            (self.day.isoformat() + ("~" if self.weekday_only else "")) if self.day else "",
            self.part or "",
            self.clock.strftime("%H:%M") if self.clock else "",
        ]


def wanted_of(value: SlotValue) -> Wanted:
    """The wanted time kept in a slot (an empty one when unset)."""
    if not isinstance(value, list) or len(value) != 3:
        return Wanted()
    day, part, clock = value
    return Wanted(
        date.fromisoformat(day.rstrip("~")) if day else None,
        part or None,
        time.fromisoformat(clock) if clock else None,
        day.endswith("~"),
    )


def merged(old: SlotValue, new: SlotValue) -> SlotValue:
    """A later answer added to the time said before: a new part drops the old clock time."""
    before, after = wanted_of(old), wanted_of(new)
    clock = after.clock
    if clock is None and (after.part is None or after.part == before.part):
        clock = before.clock
    part = after.part or (None if after.clock else before.part)
    day, weekday_only = (
        after.day or before.day,
        after.weekday_only if after.day else before.weekday_only,
    )
    if after.weekday_of() is not None and before.day is not None:
        if before.day.weekday() == after.weekday_of():  # 周一 again: the Monday said before
            day, weekday_only = before.day, before.weekday_only
    return Wanted(day, part, clock, weekday_only).value()


def _part_name(hours: tuple[int, ...]) -> str:
    first = hours[0]
    return "上午" if first < 11 else "中午" if first < 12 else "下午" if first < 17 else "晚上"


def _on_weekday(word: TimeWord, today: date) -> date | None:
    if len(word.value) != 1:
        return None  # 周末: two days, not one
    weekday = word.value[0] - 1
    prefix = word.text.lstrip("个")
    for lead, weeks in _WEEK_SHIFT:
        if prefix.startswith(lead):
            monday = today - timedelta(days=today.weekday())
            return monday + timedelta(weeks=weeks, days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _on_date(word: TimeWord, today: date) -> date | None:
    month, mday = word.value
    for ahead in range(13):
        years, index = divmod(today.month - 1 + ahead, 12)
        if month and index + 1 != month:
            continue
        try:
            day = date(today.year + years, index + 1, mday)
        except ValueError:  # 31号 of a shorter month
            continue
        if day >= today:
            return day
    return None


def _day(word: TimeWord, today: date) -> date | None:
    if word.kind == "day":
        offset = _DAY_OFFSETS.get(word.text)
        return today + timedelta(days=offset) if offset is not None else None
    if word.kind == "weekday":
        return _on_weekday(word, today)
    if word.kind == "date":
        return _on_date(word, today)
    return None


def _clock(word: TimeWord, part: str | None) -> time:
    hour, minute = word.value[0], word.value[1]
    if part is None and 1 <= hour <= 6:
        hour += 12  # 两点半 alone: the afternoon
    return time(hour % 24, minute)


def wanted_in(text: str, now: datetime, *, strict: bool = False) -> Wanted | None:
    """The time a message asks for, or None when it says none.

    When the message has a word of change (换到, 改成), only what follows it counts; strict:
    nothing else, not even when nothing follows (明天的能改一下吗: 明天 is the old time).
    """
    words = time_words(text)
    if not words:
        return None
    change = CHANGE.search(normalize(text).text)
    later = [w for w in words if change is not None and w.start >= change.end()]
    if later or strict:
        words = later
    today = now.astimezone(SHANGHAI).date()
    wanted = Wanted()
    for word in words:
        if word.negated:
            continue
        if word.kind in ("day", "weekday", "date") and wanted.day is None:
            bare = word.kind == "weekday" and not word.text.lstrip("个").startswith(_PREFIXES)
            wanted = replace(wanted, day=_day(word, today), weekday_only=bare)
        elif word.kind == "part" and wanted.part is None and word.text != "早":
            wanted = replace(wanted, part=_part_name(word.value))
    clock = next((w for w in words if w.kind == "clock" and not w.negated), None)
    if clock is not None:
        wanted = replace(wanted, clock=_clock(clock, wanted.part))
    return wanted if wanted.said else None


def named_before_change(text: str, now: datetime) -> Wanted | None:
    """The time said before the word of change (or in all of a message without one), said
    against or not: which booking it means (周四那个改到…, 礼拜二那个我去不了了)."""
    said = normalize(text).text
    change = CHANGE.search(said)
    end = change.start() if change is not None else len(said)
    words = [w for w in time_words(text) if w.end <= end]
    if not words:
        return None
    today = now.astimezone(SHANGHAI).date()
    day = next((d for w in words if (d := _day(w, today)) is not None), None)
    clock = next((w for w in words if w.kind == "clock"), None)
    wanted = Wanted(day=day, clock=_clock(clock, None) if clock else None)
    return wanted if wanted.said else None
