"""Resolve a ``time`` entity (明天下午三点, 下周二上午, 3号) to an absolute Asia/Shanghai span.

Parsing is done by ``jionlp.parse_time``; jionlp is imported on first use (about 0.3–0.6 s,
plus ~0.2 s for its first parse; it also prints banners, which are swallowed), so call
:func:`preload` at start-up to pay that cost before the first message. The text is first
passed through ``nlu.normalize`` (traditional characters, full-width digits, hanzi numbers).

Conventions (``now`` = the message time):

* ``TimeSpan.end`` is **exclusive**: 明天 = [明天 00:00, 后天 00:00); 下午2点半 = [14:30, 14:31).
* Weeks run Monday–Sunday. 这周X/本周X = day X of the current week, even if already past
  (这周五 said on Saturday is yesterday: callers should check ``end <= now`` and ask);
  下周X = day X of the next Monday–Sunday week (下周二 said on Sat 2026-11-28 is 12-01).
* Expressions with no anchor (no 今/明/这/下/年/...后) resolve to their next occurrence not
  entirely in the past: 周五 said on Saturday is next Friday; 3号 on 11-28 is 12-03 (a month
  without that day is skipped: 31号); 1月5日 and holidays (国庆, 元旦) move to next year;
  a bare time of day already past (8点 at 10:00) moves to tomorrow.
* 周末 = Saturday 00:00 to Monday 00:00 of the current (下周末: next) week.
* Day parts without a clock time: 凌晨 00–06, 早上 06–09, 上午 08–12, 中午 11–13,
  下午 13–18, 傍晚 17–19, 晚上 18–22 (今晚, 明晚 included).
* A clock hour 1–6 with no day part means the afternoon: 2点 = 14:00, 一点半 = 13:30.
* N分钟后 / N小时后 is a one-minute span starting at now + N.

Where jionlp is wrong and what is done about it: 今晚/明晚/明早 give the whole day and
明早8点 gives *today* 08:00 (rewritten to 今天晚上/明天晚上/明天早上 before parsing);
周末/这周末 give Sunday only (handled here); 3号 gives the past 11-03 and 31号 fails
(the month is pinned here); bare 周五 gives the past Friday and 2点 gives 02:00 (rolled /
shifted here); 半小时后 ends 61 minutes later and 1个小时以后 has no end (fixed here).
月底 alone fails and 这个月底前 gives a span from -inf: 月底 is read as 本月底 and an open start is
the message time (这个月底前 = [now, 1st of next month)). ``ret_future=True`` is not used: it
skips dates still ahead (30号 on 11-28 → 12-30, 周日 on a Saturday → the Sunday after next,
下周二 → 12-08). Unparsable text (随便, 尽快, 一会儿,
下个月, 这两天, 过两天) and recurring times (每周二) give None.

``TimeSpan.day_named`` is False when the text names only a time of day (下午吧, 十点那场, 早上九点):
the span is still its next occurrence, but a caller choosing among offered sessions should
read it as a filter on the time of day, whatever the day.

Answers to a question about a time are also read word by word, for choosing among offered
options: :func:`time_words` finds the day, weekday, date, part-of-day and clock words with
their spans and whether each is said against (不要上午, 上午起不来); :func:`part_of_day` and
:func:`clock_time` give the first one not said against, as an hour range and an (hour, minute).
Their day parts are wider than :func:`resolve_time`'s (上午 06–12, 下午 12–18): a filter on
session start times, not a span.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from nlu.normalize import normalize

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

_DAYPARTS: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6),
    "早上": (6, 9),
    "早晨": (6, 9),
    "清晨": (6, 9),
    "一早": (6, 9),
    "上午": (8, 12),
    "中午": (11, 13),
    "下午": (13, 18),
    "傍晚": (17, 19),
    "晚上": (18, 22),
    "晚间": (18, 22),
}
_DAYPART_RE = re.compile("|".join(_DAYPARTS))
_CLOCK_RE = re.compile(r"\d(?:点|时|:\d)|[一二两三四五六七八九十]点")
_SMALL_HOUR_RE = re.compile(r"(?<![\d一二两三四五六七八九十])([1-6一两])(?:点|时|:)")
_SHORTHANDS = {
    "今晚": "今天晚上",
    "明晚": "明天晚上",
    "昨晚": "昨天晚上",
    "今早": "今天早上",
    "明早": "明天早上",
    "明儿": "明天",
    "今儿": "今天",
}
_SHORTHAND_RE = re.compile("|".join(_SHORTHANDS))
_ANCHOR_RE = re.compile(
    r"今|明|昨|前天|后天|这|本|去年|年|现在|后$|[上下]{1,2}(?:周|个|礼拜|星期|月)"
)
_WEEKEND_RE = re.compile(r"(这|本|这个|下|下个|下下|下下个)?周末")
_DAY_OF_MONTH_RE = re.compile(r"(\d{1,2})[号日]")
_WEEKDAY_RE = re.compile(r"(?:周|星期|礼拜)[一二三四五六日天1-7]")
_SHORT_RELATIVE_RE = re.compile(r"(分钟|小时|钟头)(?:以后|之后|后)$")
_EDGE_JUNK = " ,.!?~，。！？、～吧啊呀呢嘛哈的左右"
_MONTH_END_RE = re.compile(r"(?<![本这个上下\d])月底")
_OPEN_START = "-inf"
_FMT = "%Y-%m-%d %H:%M:%S"

_lock = threading.Lock()


@dataclass(frozen=True)
class TimeSpan:
    """A resolved time: [start, end) in Asia/Shanghai (end exclusive) and the text it came from."""

    start: datetime
    end: datetime
    text: str
    day_named: bool = True  # False for a time of day alone (下午, 十点那场): a filter, not a day


@lru_cache(maxsize=1)
def _jionlp_parse() -> Callable[..., dict[str, Any]]:
    with contextlib.redirect_stdout(io.StringIO()) as banner:
        import jionlp  # heavy (0.3–0.6 s): imported on first use only
    logger.debug("jionlp %s loaded: %s", jionlp.__version__, banner.getvalue().strip())
    parse: Callable[..., dict[str, Any]] = jionlp.parse_time
    return parse


def preload() -> None:
    """Load jionlp, OpenCC and cn2an now (~1 s) so the first message does not wait for them."""
    resolve_time("明天下午三点", datetime.now(SHANGHAI))


def _prepare(text: str) -> str:
    expr = "".join(normalize(text).text.split()).strip(_EDGE_JUNK)
    expr = _SHORTHAND_RE.sub(lambda m: _SHORTHANDS[m.group()], expr)
    expr = _MONTH_END_RE.sub("本月底", expr)
    return _SHORT_RELATIVE_RE.sub(r"\1后", expr)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(), SHANGHAI) + timedelta(hours=hour)


def _weekend(expr: str, now: datetime) -> tuple[datetime, datetime] | None:
    m = _WEEKEND_RE.fullmatch(expr)
    if m is None:
        return None
    weeks = (m.group(1) or "").count("下")
    saturday = now.date() + timedelta(days=5 - now.weekday() + 7 * weeks)
    return _at(saturday, 0), _at(saturday + timedelta(days=2), 0)


def _pin_day_of_month(expr: str, now: datetime) -> str:
    """Prefix a bare 3号 with the year and month of its next occurrence."""
    m = _DAY_OF_MONTH_RE.match(expr)
    if m is None or "月" in expr or _ANCHOR_RE.search(expr):
        return expr
    day = int(m.group(1))
    year, month = now.year, now.month
    for _ in range(13):
        if 1 <= day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= now.date():
            return f"{year}年{month}月{expr}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return expr


def _parse(expr: str, base: datetime) -> tuple[datetime, datetime] | None:
    """Parse with jionlp relative to ``base`` and apply this module's conventions."""
    parse = _jionlp_parse()
    try:
        with _lock:  # jionlp's parser keeps per-call state on a shared instance
            result = parse(expr, time_base=base.replace(tzinfo=None, microsecond=0))
        if result.get("type") not in ("time_point", "time_span"):
            return None
        end = datetime.strptime(result["time"][1], _FMT).replace(tzinfo=SHANGHAI)
        if result["time"][0] == _OPEN_START:  # 这个月底前: from now on
            start = base.replace(second=0, microsecond=0)
        else:
            start = datetime.strptime(result["time"][0], _FMT).replace(tzinfo=SHANGHAI)
    except Exception as exc:  # jionlp signals "not a time" with ValueError, and worse on junk
        logger.debug("jionlp cannot parse %r: %s", expr, (str(exc).splitlines() or [""])[0])
        return None
    if end.second == 59:
        end += timedelta(seconds=1)
    if _SHORT_RELATIVE_RE.search(expr) or end <= start:
        end = start + timedelta(minutes=1)
    short = end - start <= timedelta(days=1)
    parts = _DAYPART_RE.findall(expr)
    if parts and short and not _CLOCK_RE.search(expr):
        first, last = _DAYPARTS[parts[-1]]
        start, end = _at(start.date(), first), _at(start.date(), last)
    elif not parts and short and _SMALL_HOUR_RE.search(expr) and 1 <= start.hour <= 6:
        start, end = start + timedelta(hours=12), end + timedelta(hours=12)
    return start, end


def _roll_base(expr: str, start: datetime, now: datetime) -> datetime:
    """The time base one period later, for an unanchored expression that came out past."""
    if _WEEKDAY_RE.search(expr):
        return now + timedelta(days=7)
    if start.date() < now.date():
        day = min(now.day, calendar.monthrange(now.year + 1, now.month)[1])
        return now.replace(year=now.year + 1, day=day)
    return now + timedelta(days=1)


def resolve_time(text: str, now: datetime) -> TimeSpan | None:
    """Resolve a time expression relative to the aware datetime ``now``; None if not a time."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(SHANGHAI)
    expr = _prepare(text)
    if not expr:
        return None
    span = _weekend(expr, now)
    if span is None:
        expr = _pin_day_of_month(expr, now)
        span = _parse(expr, now)
        if span is not None and span[1] <= now and not _ANCHOR_RE.search(expr):
            span = _parse(expr, _roll_base(expr, span[0], now)) or span
    if span is None:
        return None
    return TimeSpan(start=span[0], end=span[1], text=text, day_named=_names_a_day(text))


# ---------------------------------------------------------------- words of a time answer

TimeWordKind = Literal["day", "weekday", "date", "part", "clock"]

# Hour ranges [first, last) of the day parts residents name when choosing a session; the
# north-eastern 头午 / 晌午 / 下晌 are the morning, noon and afternoon.
PARTS_OF_DAY: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6),
    "早上": (6, 12),
    "早晨": (6, 12),
    "清晨": (6, 12),
    "一早": (6, 12),
    "大早": (6, 12),
    "今早": (6, 12),
    "明早": (6, 12),
    "上午": (6, 12),
    "头午": (6, 12),
    "上晌": (6, 12),
    "早": (6, 12),
    "中午": (11, 14),
    "晌午": (11, 14),
    "下午": (12, 18),
    "午后": (12, 18),
    "下晌": (12, 18),
    "后晌": (12, 18),
    "过晌": (12, 18),
    "傍晚": (17, 19),
    "擦黑": (17, 19),
    "黄昏": (17, 19),
    "晚上": (18, 23),
    "晚间": (18, 23),
    "夜里": (18, 23),
    "今晚": (18, 23),
    "明晚": (18, 23),
    "昨晚": (18, 23),
}
_AFTER_NOON = frozenset({"下午", "午后", "下晌", "后晌", "过晌", "傍晚", "擦黑", "黄昏"})
_EVENING = frozenset({"晚上", "晚间", "夜里", "今晚", "明晚", "昨晚"})
_NOON = frozenset({"中午", "晌午"})
_WEEKDAY_NUMBERS = {c: i for i, c in enumerate("一二三四五六日", 1)} | {"天": 7}
_WEEKDAY_NUMBERS |= {str(i): i for i in range(1, 8)}
_HANZI_MINUTES = {c: i for i, c in enumerate("零一二三四五六七八九")}
# One alternation, each branch of bounded length: linear on any text
# (tests/unit/test_regex_steps.py).
# 今晚/明早 are a day and a part of it; 早 alone is the morning unless 早点/早饭/早就...; a bare
# 一点 is a clock time only before 半/钟/整/刻 and not after 快/早/差... (快一点, 早一点).
_TIME_WORD_RE = re.compile(
    r"(?P<daypart>今晚|明晚|昨晚|今早|明早)"
    r"|(?P<day>大后天|后天|明天|今天|明儿|今儿|昨天|前天)"
    r"|(?P<part>凌晨|早上|早晨|清晨|一早|大早|上午|头午|上晌|中午|晌午|下午|午后|下晌|后晌|过晌"
    r"|傍晚|擦黑|黄昏|晚上|晚间|夜里|早(?![点饭餐就已些日晨上一]))"
    r"|(?P<week>(?:下下|下|这|本|上)?个?(?:(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天1-7])|周末))"
    r"|(?P<date>(?:(?P<month>\d{1,2})月)?(?P<mday>\d{1,2})[号日](?!楼|单元|栋|幢|室|院|门|号))"
    r"|(?P<clock>(?<!\d)(?P<hour>\d{1,2})(?::(?P<mm>\d{2})"
    r"|点钟?(?P<minute>半|[一三]刻|\d{1,2}|[零一二三四五六七八九十]{1,3})?)"
    r"|(?<![快早晚慢好多少有这那差些点一])一点(?=半|钟|整|[一三]刻)(?P<one>半|[一三]刻)?)"
)
_NEG_BEFORE = re.compile(
    r"(?:(?<!是)不是|不要|不去|不约|不想|不选|不在|别|没有|除了)$"
)  # not 是不是
# what follows a word to say against it: a refusal, not any 不 (我妈腿脚不好 is not against 我妈)
_NEG_WORD = re.compile(
    r"不行|不要|不去|不约|不想|不方便|不合适|不可以|不对|不用|起不来|不了|没空|没时间|算了"
)
_CLAUSE_END = re.compile(r"[\s,.!?;，。！？；、吧]")
_NEG_WINDOW = 5


@dataclass(frozen=True)
class TimeWord:
    """A time word of ``normalize(text).text``: its span, kind, value, and if it is said against.

    value by kind: day — (); weekday — the weekdays, 1 = Monday (周末: 6, 7); date — (month or
    0, day of month); part — (first hour, last hour); clock — (hour, minute), in the afternoon
    when the part of the day said puts it there (下午两点半 → (14, 30); 两点半 alone → (2, 30)).
    """

    start: int
    end: int
    kind: TimeWordKind
    text: str
    value: tuple[int, ...]
    negated: bool


def negated(text: str, start: int, end: int, stop: int | None = None) -> bool:
    """Whether text[start:end] is said against: 不是/不要/别 before it, 不行/起不来 just after.

    The words after it are read up to the end of the clause (a space, a comma, 吧) or ``stop``
    (where the next answer word begins), at most five characters: 上午起不来, 周四不行.
    """
    if _NEG_BEFORE.search(text, max(0, start - 2), start):
        return True
    limit = min(len(text), end + _NEG_WINDOW, len(text) if stop is None else max(stop, end))
    clause = _CLAUSE_END.search(text, end, limit)
    return _NEG_WORD.search(text, end, clause.start() if clause else limit) is not None


def _minutes(said: str | None) -> int:
    if not said:
        return 0
    if said == "半":
        return 30
    if said.endswith("刻"):
        return 15 if said[0] == "一" else 45
    if said.isdigit():
        return int(said)
    tens, _, ones = said.rpartition("十")
    if "十" not in said:  # 零五 → 5, 二 → 2 (九点二: twenty past, but rare; read as said)
        return int("".join(str(_HANZI_MINUTES[c]) for c in said)) if len(said) <= 2 else 99
    value = (_HANZI_MINUTES.get(tens, 99) if tens else 1) * 10
    return value + (_HANZI_MINUTES.get(ones, 99) if ones else 0)


def _word(m: re.Match[str]) -> tuple[TimeWordKind, tuple[int, ...]] | None:
    if m.group("day"):
        return "day", ()
    if m.group("part"):
        return "part", PARTS_OF_DAY[m.group("part")]
    if m.group("week"):
        weekday = m.group("weekday")
        return "weekday", (_WEEKDAY_NUMBERS[weekday],) if weekday else (6, 7)
    if m.group("date"):
        month, day = int(m.group("month") or 0), int(m.group("mday"))
        return ("date", (month, day)) if month <= 12 and 1 <= day <= 31 else None
    if m.group("hour"):
        hour = int(m.group("hour"))
        minute = int(m.group("mm")) if m.group("mm") else _minutes(m.group("minute"))
    else:
        hour, minute = 1, _minutes(m.group("one"))
    return ("clock", (hour, minute)) if hour <= 24 and minute < 60 else None


def time_words(text: str) -> list[TimeWord]:
    """The day, weekday, date, part-of-day and clock words of an answer, in order."""
    said = normalize(text).text
    found: list[tuple[int, int, TimeWordKind, tuple[int, ...]]] = []
    for m in _TIME_WORD_RE.finditer(said):
        if m.group("daypart"):  # 今晚 is a day and a part of it
            found.append((m.start(), m.end(), "day", ()))
            found.append((m.start(), m.end(), "part", PARTS_OF_DAY[m.group("daypart")]))
            continue
        word = _word(m)
        if word is not None:
            found.append((m.start(), m.end(), *word))
    words = []
    for i, (start, end, kind, value) in enumerate(found):
        stop = next((s for s, *_ in found[i + 1 :] if s >= end), None)
        against = negated(said, start, end, stop)
        words.append(TimeWord(start, end, kind, said[start:end], value, against))
    return [_in_part_of_day(w, words) if w.kind == "clock" else w for w in words]


def _in_part_of_day(clock: TimeWord, words: list[TimeWord]) -> TimeWord:
    """The clock time as meant: 下午 / 晚上 before it (or after it: 两点半 下午的) add 12 hours."""
    parts = [w for w in words if w.kind == "part" and not w.negated]
    before = [w for w in parts if w.end <= clock.start]
    part = before[-1] if before else next(iter(parts), None)
    hour, minute = clock.value
    if part is None or hour >= 12:
        return clock
    if part.text in _AFTER_NOON or part.text in _EVENING or (part.text in _NOON and hour <= 3):
        return replace(clock, value=(hour + 12, minute))
    return clock


def part_of_day(text: str) -> tuple[int, int] | None:
    """The hours [first, last) of the part of the day said (下午吧 → (12, 18)), or None."""
    part = next((w for w in time_words(text) if w.kind == "part" and not w.negated), None)
    return (part.value[0], part.value[1]) if part else None


def clock_time(text: str) -> tuple[int, int] | None:
    """The clock time said, as (hour, minute): 九点半 → (9, 30); 下午两点半 → (14, 30)."""
    clock = next((w for w in time_words(text) if w.kind == "clock" and not w.negated), None)
    return (clock.value[0], clock.value[1]) if clock else None


_OTHER_DAY_RE = re.compile(r"月|年|节|旦|夕|宵|后|前|现在|天|日|号|周|星期|礼拜|末|底|初")


def _names_a_day(text: str) -> bool:
    """False when the words of a time are only a part of the day or a clock time (十点那场)."""
    words = time_words(text)
    if not words or any(w.kind not in ("part", "clock") for w in words):
        return True
    said = normalize(text).text
    rest = "".join(
        said[i] for i in range(len(said)) if not any(w.start <= i < w.end for w in words)
    )
    return _OTHER_DAY_RE.search(rest) is not None
