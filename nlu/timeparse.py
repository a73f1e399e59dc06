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
``ret_future=True`` is not used: it skips dates still ahead (30号 on 11-28 → 12-30, 周日 on
a Saturday → the Sunday after next, 下周二 → 12-08). Unparsable text (随便, 尽快, 一会儿,
下个月, 这两天, 过两天) and recurring times (每周二) give None.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
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
_FMT = "%Y-%m-%d %H:%M:%S"

_lock = threading.Lock()


@dataclass(frozen=True)
class TimeSpan:
    """A resolved time: [start, end) in Asia/Shanghai (end exclusive) and the text it came from."""

    start: datetime
    end: datetime
    text: str


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
        start = datetime.strptime(result["time"][0], _FMT).replace(tzinfo=SHANGHAI)
        end = datetime.strptime(result["time"][1], _FMT).replace(tzinfo=SHANGHAI)
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
    return TimeSpan(start=span[0], end=span[1], text=text)
