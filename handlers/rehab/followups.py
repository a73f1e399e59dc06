"""The booking just made (rule 6): what the resident says next about it is about that booking.

After 已约好 Y1008, "换到周五" / "礼拜六那个我去不了了 取消吧" start changing it (the change
request finds it as the one just made), "我刚才约的那个是几点来着" is answered from it, and a
plain 好 / 对 is acknowledged, and another question the NLU is unsure of is answered beside the
booking (with a person offered). Anything the NLU is sure is something else (a question for
the FAQ, a new request) is left to the router.
"""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.engine.answers import AnswerKind, is_thanks_only, read_answer
from handlers.engine.details import asks_when, is_question
from handlers.engine.state import Dialogue
from handlers.registry import intent
from handlers.rehab.changes import action_in
from handlers.rehab.commands import start_change
from handlers.rehab.status import status_line
from handlers.rehab.times import CHANGE, wanted_in
from nlu.normalize import normalize
from storage.bookings import Booking, booking_by_number

SURE = 0.7  # a message this sure of another intent is something else, not about the booking
ABOUT_IT = frozenset({"affirm", "deny", "cancel_booking", "check_status", "out_of_scope"})
_WHEN_WORDS = re.compile(r"几点|哪天|哪一天|什么时候|啥时候|几号|在哪|什么地方|啥地方|地址")


async def _current_booking(ctx: Context) -> Booking | None:
    item = Dialogue.load(ctx.state).item
    if item is None or item.kind != "booking":
        return None
    booking = await booking_by_number(ctx.session, item.number)
    if booking is None or booking.resident_id != ctx.resident.id:
        return None
    return booking


def _changes_it(text: str, ctx: Context) -> bool:
    """Words that cancel or move it, or a new time after a word of change (换到周五)."""
    if action_in(text) is not None:
        return True
    plain = normalize(text).text
    return CHANGE.search(plain) is not None and wanted_in(text, ctx.now, strict=True) is not None


@intent("item:booking")
async def take_booking_follow_up(ctx: Context) -> bool:
    """Answer a message about the booking just made; False when it is something else."""
    if ctx.worker is not None:
        return False
    booking = await _current_booking(ctx)
    text = ctx.text.strip()
    if booking is None or is_thanks_only(text):
        return False
    sure = ctx.parse is not None and ctx.parse.confidence >= SURE
    if sure and ctx.intent not in ABOUT_IT:
        return False
    if booking.status == "booked" and booking.starts_at > ctx.now and _changes_it(text, ctx):
        await start_change(ctx)
        return True
    if asks_when(text) or _WHEN_WORDS.search(text):
        ctx.action = f"booking_status:{booking.number}"
        ctx.reply(status_line(booking) + "。要改时间或取消，直接告诉我。")
        return True
    answer = read_answer(text, ctx.intent, ctx.parse.confidence if ctx.parse else 0.0)
    if answer.kind is AnswerKind.YES:  # 好 / 嗯 给他约上: agreed, nothing more to do
        ctx.action = f"booking_ack:{booking.number}"
        ctx.reply(f"好的，预约 {booking.number} 记着呢，到时候见。")
        return True
    if is_question(text):  # "要带什么东西吗 她坐轮椅 能推进去吗": answered beside the booking
        ctx.action = f"booking_question:{booking.number}"
        ctx.reply(f"{status_line(booking)}。\n这个我答不准，想问站点的工作人员可以回复“转人工”。")
        return True
    return False
