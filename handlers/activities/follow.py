"""After the sign-up (rule 6): questions about the activity, cancelling it, a yes or thanks.

The sign-up just made is the conversation's item. "几点开始 在哪" and "要空腹不" are answered
from the activity's data; "去不了了 给我取消吧" cancels it at once and frees the place (the
resident named it, nothing is lost by asking no more); a cancellation that names another
of the resident's upcoming sign-ups ("插花那个也不去了") cancels that one.
"""

from __future__ import annotations

import re

from handlers.activities.offer import names_it, when_text
from handlers.activities.questions import answer_about
from handlers.context import Context
from handlers.engine.answers import AnswerKind, is_thanks_only, read_answer
from handlers.engine.details import is_question
from handlers.engine.state import Dialogue
from handlers.registry import intent
from nlu.normalize import normalize
from storage.booking_places import cancel
from storage.bookings import ACTIVE, Booking, booking_by_number, upcoming_bookings_of

CANCEL_INTENT = "cancel_booking"
SURE = 0.5  # how sure the NLU must be that the message cancels
OTHER_REQUEST = 0.7  # a message this sure of another intent is a new request
ABOUT_IT = frozenset({"affirm", "deny", "thank", "faq", "out_of_scope", "greet", "nlu_fallback"})
# words that call the sign-up off; a bare 不用了 (谢谢) after it is no cancellation
_CANT_GO = re.compile(
    r"去不了|不去了|来不了|参加不了|去不成|不参加了|退(?:掉|了|出)|取消|不报了|撤(?:销|回)"
)


def _cancels(ctx: Context) -> bool:
    plain = normalize(ctx.text).text
    said = _CANT_GO.search(plain) is not None
    if is_question(plain) and not said:
        return False
    sure = ctx.parse is not None and ctx.parse.confidence >= SURE
    return said or (ctx.intent == CANCEL_INTENT and sure and not is_thanks_only(plain))


async def _which(ctx: Context, booking: Booking) -> Booking:
    """The sign-up the message is about: one it names among the resident's, else the item."""
    if booking.activity is not None and names_it(ctx.text, booking.activity):
        return booking
    upcoming = await upcoming_bookings_of(ctx.session, ctx.resident.id, ctx.now, "activity")
    named = [b for b in upcoming if b.activity is not None and names_it(ctx.text, b.activity)]
    return named[0] if len(named) == 1 else booking


async def _cancel(ctx: Context, booking: Booking) -> None:
    title = booking.activity.title if booking.activity else "活动"
    if booking.status != ACTIVE or not await cancel(ctx.session, booking, ctx.now):
        ctx.action = f"activity_not_cancelled:{booking.number}"
        ctx.reply(f"报名 {booking.number}【{title}】已经取消了，不用再办。想再报随时告诉我。")
        return
    ctx.action = f"booking_cancelled:{booking.number}"
    ctx.reply(
        f"已取消报名 {booking.number}（【{title}】{when_text(booking.starts_at)}），"
        "名额已让给其他居民。"
    )


@intent("item:activity")
async def take_sign_up_follow_up(ctx: Context) -> bool:
    """Take a message about the sign-up just made; False when it is about something else."""
    item = Dialogue.load(ctx.state).item
    if item is None or item.kind != "activity" or ctx.worker is not None:
        return False
    booking = await booking_by_number(ctx.session, item.number)
    if booking is None or booking.resident_id != ctx.resident.id or booking.activity is None:
        return False
    parse = ctx.parse
    other = (
        parse is not None
        and parse.confidence >= OTHER_REQUEST
        and parse.intent not in (ABOUT_IT | {CANCEL_INTENT})
    )
    if _cancels(ctx) and not other:
        await _cancel(ctx, await _which(ctx, booking))
        return True
    if is_question(ctx.text):
        activity = (await _which(ctx, booking)).activity or booking.activity
        reply = answer_about(activity, ctx.text, strict=other)
        if reply:
            ctx.action = f"activity_answer:{booking.number}"
            ctx.reply(reply)
            return True
        return False
    if other:
        return False
    answer = read_answer(ctx.text, ctx.intent, parse.confidence if parse else 0.0)
    if answer.kind is AnswerKind.YES and booking.status == ACTIVE:
        ctx.action = f"activity_noted:{booking.number}"
        ctx.reply(f"好的，已经报上了，报名号 {booking.number}。到时候见。")
        return True
    return False
