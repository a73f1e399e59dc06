"""Steps and wording shared by rehab booking and activity sign-up: dates, for whom, retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from handlers.context import Context
from handlers.dialogue import ask_again, choice_number, squeeze
from nlu.timeparse import SHANGHAI
from storage.bookings import SELF, Booking, place_of, title_of

REMIND_AHEAD = timedelta(hours=24)  # the reminder goes out the day before
WEEKDAY_NAMES = "一二三四五六日"
SELF_WORDS = frozenset({"我", "我自己", "自己", "本人", "给我", "给自己"})
ASK_WHOM = "这次是给谁{}？回复 1 给自己，回复 2 给家人。"
NAME_PREFIXES = ("名字叫", "名字是", "姓名是", "他叫", "她叫", "叫", "是")
TIME_TAILS = "点时半分号日整"
Prompt = Callable[[Context], Awaitable[None]]


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


def _clock(moment: datetime) -> str:
    hour = moment.hour - 12 if moment.hour >= 13 else moment.hour
    return f"{hour}:{moment:%M}"


def when_text(start: datetime, end: datetime | None = None) -> str:
    """12月1日（周二）上午9:00-10:00, in Asia/Shanghai."""
    local = start.astimezone(SHANGHAI)
    part = "上午" if local.hour < 12 else "中午" if local.hour < 13 else "下午"
    until = f"-{_clock(end.astimezone(SHANGHAI))}" if end is not None else ""
    return f"{day_text(local.date())}{part}{_clock(local)}{until}"


def called(relation: str | None) -> str:
    """How the bot names the relative to the resident: 我爸 → 您爸."""
    name = relation or "家人"
    return "您" + name[1:] if name[0] in "我俺" and len(name) > 1 else name


def who_text(person: str, relation: str | None) -> str:
    """您本人, or 您爸（王建华）."""
    return "您本人" if person == SELF else f"{called(relation)}（{person}）"


async def retry(ctx: Context, prompt: str) -> None:
    """Ask again, or give up politely after MAX_RETRIES misunderstood answers."""
    gave_up = "没能确认您的选择，这次先不约了。您可以重新说一遍，或回复“转人工”。"
    ask_again(ctx, prompt, action="booking_abandoned", gave_up=gave_up)


def set_relation(ctx: Context, relation: str | None) -> None:
    """Remember for whom the resident books, from the relation they named (我爸, 自己)."""
    if relation is None:
        return
    if relation in SELF_WORDS:
        ctx.state["person"] = SELF
    else:
        ctx.state["relation"] = relation


def _ask_whom(ctx: Context) -> str:
    return ASK_WHOM.format("报名" if ctx.state.get("flow") == "activity" else "预约")


async def ask_whom(ctx: Context, then: Prompt) -> None:
    """Ask for whom (or their name) unless already known; then show the confirmation."""
    if ctx.state.get("person"):
        ctx.state["step"] = "confirm"
        await then(ctx)
    elif ctx.state.get("relation"):
        ctx.state["step"] = "name"
        ctx.reply(f"请问{called(ctx.state['relation'])}叫什么名字？")
    else:
        ctx.state["step"] = "whom"
        ctx.reply(_ask_whom(ctx))


async def take_whom(ctx: Context, then: Prompt) -> None:
    """Take the answer to 给谁 (1 self, 2 family, or a relation) or to the name question."""
    if ctx.state.get("step") == "whom":
        choice = choice_number(ctx.text)
        relation = ctx.entity("relation")
        if choice == 1:
            ctx.state["person"] = SELF
        elif choice == 2:
            ctx.state["relation"] = "家人"
        elif relation:
            set_relation(ctx, relation)
        else:
            await retry(ctx, _ask_whom(ctx))
            return
        ctx.state["retries"] = 0
        await ask_whom(ctx, then)
        return
    name = squeeze(ctx.text).removeprefix(ctx.state.get("relation") or "")
    for prefix in NAME_PREFIXES:
        name = name.removeprefix(prefix)
    if not 2 <= len(name) <= 8 or not all("\u4e00" <= c <= "\u9fff" or c.isalpha() for c in name):
        await retry(ctx, "请只回复姓名，比如：王建华。")
        return
    ctx.state.update(person=name, step="confirm", retries=0)
    await then(ctx)


def booking_summary(booking: Booking) -> str:
    """12月1日（周二）上午9:00 东关社区吉康之家 肢体康复训练."""
    return f"{when_text(booking.starts_at)} {place_of(booking)} {title_of(booking)}"
