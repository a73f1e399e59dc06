"""The activities on offer: the choices a sign-up picks from, how they are named and shown.

An activity is named by its number in the list shown, its title or part of it (插花, 义诊,
四点半课堂), a part of a title split at "·" (健康操), the place it is held (铁指江南那个), or
its day and time (周六那个, 下礼拜一那个); handlers/engine/choices.py weighs the answer. Said
in a message that was not the answer to "报哪个", a title is taken only when the message
holds its own characters (or its day), not a sound-alike, so a stray word never changes it.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.engine.choices import Match, Option, match_option
from nlu.normalize import normalize
from nlu.timeparse import SHANGHAI, time_words
from storage.bookings import Activity, upcoming_activities

LISTED_DAYS = 30  # activities offered from now on
WEEKDAYS = "一二三四五六日"
# words of an activity's title, place or description that say it is for children
CHILD_WORDS = ("孩子", "儿童", "小学生", "少儿", "青少年", "放学", "学生")
# words of a place every place has: they name no activity
_PLACE_WORDS = re.compile(
    r"社区|党群|服务中心|服务站|服务|中心|小区|[一二三四五六1-6]楼|大厅|之家|广场|会议室"
)
_NAME_SPLIT = re.compile(r"[·・\s、（）()]+")


def day_text(moment: datetime) -> str:
    """12月5日（周六）, in Asia/Shanghai."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）"


def _clock(moment: datetime) -> str:
    hour = moment.hour - 12 if moment.hour >= 13 else moment.hour
    return f"{hour}:{moment:%M}"


def _part(moment: datetime) -> str:
    return "上午" if moment.hour < 12 else "中午" if moment.hour < 13 else "下午"


def when_text(start: datetime, end: datetime | None = None) -> str:
    """12月5日（周六）上午9:00-11:30, in Asia/Shanghai."""
    local = start.astimezone(SHANGHAI)
    until = f"-{_clock(end.astimezone(SHANGHAI))}" if end is not None else ""
    return f"{day_text(local)}{_part(local)}{_clock(local)}{until}"


def places_left(activity: Activity) -> int:
    """How many places are still free."""
    return max(0, activity.capacity - activity.booked)


def for_children(activity: Activity) -> bool:
    """Whether the activity is for children (a child is signed up, not the resident)."""
    said = f"{activity.title} {activity.place} {activity.description}"
    return any(word in said for word in CHILD_WORDS)


def title_parts(activity: Activity) -> list[str]:
    """The title and its parts (银铃乐趣小课堂·健康操 → 银铃乐趣小课堂, 健康操)."""
    parts = [p for p in _NAME_SPLIT.split(activity.title) if len(p) >= 2]
    return [activity.title, *(p for p in parts if p != activity.title)]


def place_words(activity: Activity) -> list[str]:
    """The words of its place that tell it from other places (东关, 铁指江南, 儿童)."""
    return [w for w in _PLACE_WORDS.split(activity.place) if len(w) >= 2]


def option_of(activity: Activity) -> Option:
    """The activity as a choice: shown with its day and time, named by title, place or time."""
    local = activity.starts_at.astimezone(SHANGHAI)
    when = f"{local.month}月{local.day}日周{WEEKDAYS[local.weekday()]}{_part(local)}{_clock(local)}"
    full = "（已报满）" if places_left(activity) == 0 else ""
    return Option(
        key=str(activity.id),
        name=f"{activity.title} {when}{full}",
        aliases=tuple(title_parts(activity)[1:]),
        hints=(activity.place,),
    )


async def on_offer(session: AsyncSession, now: datetime) -> list[Activity]:
    """The activities still ahead in the next LISTED_DAYS days: open ones first, by time."""
    activities = await upcoming_activities(session, now, LISTED_DAYS)
    return sorted(activities, key=lambda a: (places_left(a) == 0, a.starts_at, a.id))


def _grams(words: list[str]) -> set[str]:
    grams = set()
    for word in words:
        plain = normalize(word).text
        grams |= {plain[i : i + 2] for i in range(len(plain) - 1)}
    return grams


def names_title(text: str, activity: Activity) -> bool:
    """Whether the text holds two characters in a row of the activity's title (插花, 义诊)."""
    plain = normalize(text).text
    grams = _grams(title_parts(activity))
    return any(plain[i : i + 2] in grams for i in range(len(plain) - 1))


def names_it(text: str, activity: Activity) -> bool:
    """Whether the text holds the activity's own words (title, place) or a day or date."""
    plain = normalize(text).text
    if any(w.kind in ("weekday", "date") for w in time_words(text)):
        return True
    grams = _grams(title_parts(activity)) | _grams(place_words(activity))
    return any(plain[i : i + 2] in grams for i in range(len(plain) - 1))


def _heads_named(
    text: str, candidates: tuple[Option, ...], by_key: dict[str, Activity]
) -> list[Option]:
    """Candidates whose title (or a part of it) ends in a character the text holds.

    The last character of a Chinese name is its head word: 做操的 is 健康操, not 插花.
    """
    plain = normalize(text).text
    return [
        o
        for o in candidates
        if o.key in by_key and any(part[-1] in plain for part in title_parts(by_key[o.key]))
    ]


def pick(text: str, activities: list[Activity], now: datetime, *, numbered: bool) -> Match:
    """Which activity the text names; several equal ones are told apart by their last word."""
    options = [option_of(a) for a in activities]
    match = match_option(text, options, numbered=numbered, now=now)
    if match.option is None and len(match.candidates) > 1:
        by_key = {str(a.id): a for a in activities}
        heads = _heads_named(text, match.candidates, by_key)
        if len(heads) == 1:
            return Match(heads[0])
    return match
