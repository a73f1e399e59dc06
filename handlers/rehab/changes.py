"""Changing a booking: cancel it, or move a rehab booking to another session, confirmed.

Residents say it in words (礼拜六那个理疗我去不了了 取消吧, 换到周五, 周四九点那个改到周二吧
十点的) or type `取消预约 Y1001` / `改约 Y1001`. Which booking: the number quoted, the only
one, the one the words before the change point at (周四那个, 理疗), or the one just made.
The new time is what follows the word of change; the new session keeps the station and
the service unless others are named. At the confirmation of a cancellation, 对 取消 and
嗯 不去了 agree with it; 还是不取消了 / 算了 keep the booking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.engine.answers import Answer, AnswerKind, read_answer
from handlers.engine.choices import Option
from handlers.engine.details import ticket_number
from handlers.engine.forms import Accept, Form, Refuse, Slot, Verdict, never
from handlers.engine.state import CONFIRM, SlotValue
from handlers.engine.turn import Turn
from handlers.rehab.sessions import (
    MAX_SHOWN,
    Choice,
    as_options,
    choice_prompt,
    choose,
    find_offer,
    fits_chosen,
    key_of,
    service_names,
    services_named,
)
from handlers.rehab.stations import named_station, station_of
from handlers.rehab.times import CHANGE, merged, named_before_change, wanted_in, wanted_of
from handlers.rehab.wording import REMIND_AHEAD, booking_summary, when_text
from nlu.normalize import normalize
from storage.booking_places import cancel, reschedule
from storage.bookings import SELF, Booking, booking_by_number, title_of, upcoming_bookings_of

FORM = "booking_change"
CANCEL, MOVE = "cancel", "reschedule"
CANCEL_WORDS = re.compile(
    r"取消|去不了|不去了|不去|来不了|不来了|不约了|退掉|退了|不参加了|参加不了|去不成"
)
MOVE_WORDS = re.compile(
    r"改约|改期|改时间|改个时间|换时间|换个时间|换个日子|换到|改到|换成|改成|挪到|调到|推到|"
    r"往后推|延期|改一下|换一下|换一天|改天|能不能换|能不能改|改一改|换一换"
)
KEEP_WORDS = re.compile(
    r"不取消|别取消|不用取消|先不取消|还是去|还是约着|能去了|不改了|不换了|先不改|不用改|"
    r"不用换|保持不变|不变了|还按原来|就原来"
)
ACTIONS = (
    Option(CANCEL, "取消预约", ("取消", "不去了", "去不了")),
    Option(MOVE, "改个时间", ("改时间", "换时间", "改约", "换一天")),
)


# ------------------------------------------------------------------ which booking


async def upcoming(turn: Turn) -> list[Booking]:
    """The resident's bookings still to come."""
    return await upcoming_bookings_of(turn.ctx.session, turn.ctx.resident.id, turn.ctx.now)


def _pointed(turn: Turn, bookings: list[Booking]) -> list[Booking]:
    """The bookings the words before the change point at (周四那个, 理疗那个)."""
    text = turn.text
    said = named_before_change(text, turn.ctx.now)
    picked = bookings
    if said is not None and said.day is not None:
        picked = [b for b in picked if said.fits(b.starts_at)] or picked
    named = [b for b in picked if any(w in text for w in _title_words(title_of(b)))]
    return named or picked


def _title_words(title: str) -> list[str]:
    words = re.sub("康复|与|和", " ", title).split()
    return [w[i : i + 2] for w in words for i in range(0, len(w) - 1, 2)]


async def _booking_in(turn: Turn) -> SlotValue:
    quoted = ticket_number(turn.text)
    if quoted is not None and quoted.startswith("Y"):
        return quoted
    bookings = await upcoming(turn)
    pointed = _pointed(turn, bookings)
    if turn.flow.get("booking") is not None:
        # chosen already: changed only by words pointing at another one
        return pointed[0].number if len(pointed) == 1 and len(bookings) > 1 else None
    if len(bookings) == 1:
        return bookings[0].number
    if len(pointed) == 1:
        return pointed[0].number
    item = turn.dialogue.item
    numbers = {b.number for b in pointed}
    if item is not None and item.kind == "booking" and item.number in numbers:
        return item.number  # the one just made, unless the words point elsewhere
    return None


async def _booking_options(turn: Turn) -> Sequence[Option]:
    return [
        Option(str(b.number), f"{b.number} {booking_summary(b)}{_for(b)}")
        for b in (await upcoming(turn))[:MAX_SHOWN]
    ]


def _for(booking: Booking) -> str:
    return "" if booking.person == SELF else f"（{booking.person}）"


async def _check_booking(turn: Turn, value: SlotValue) -> Verdict:
    number = str(value or "")
    if number not in {b.number for b in await upcoming(turn)}:
        return Refuse(f"没有找到您名下还没到时间的预约 {number}。发送“查询”可以看您的预约。")
    return Accept(number)


async def booking_of(turn: Turn) -> Booking | None:
    """The booking being changed."""
    number = turn.flow.text("booking")
    return await booking_by_number(turn.ctx.session, number) if number else None


# ------------------------------------------------------------------ what to do with it


def action_in(text: str) -> str | None:
    """Cancel or move, as the words say (周二我去不了 换到周四: move)."""
    plain = normalize(text).text
    if KEEP_WORDS.search(plain):
        return None
    if MOVE_WORDS.search(plain):
        return MOVE
    return CANCEL if CANCEL_WORDS.search(plain) else None


def _action(turn: Turn) -> SlotValue:
    return action_in(turn.text)


async def _check_action(turn: Turn, value: SlotValue) -> Verdict:
    booking = await booking_of(turn)
    if value == MOVE and booking is not None and booking.slot is None:
        return Refuse("活动报名不能改时间，去不了的话可以取消，名额会让给别人。")
    return Accept(value)


def _moving(turn: Turn) -> bool:
    return turn.flow.get("action") == MOVE


# ------------------------------------------------------------------ the new session


async def _station(turn: Turn) -> SlotValue:
    plain = normalize(turn.text).text
    change = CHANGE.search(plain)
    if change is None and turn.flow.asking not in ("session", CONFIRM):
        return None
    return await named_station(turn.ctx.session, plain[change.end() :] if change else plain)


async def _service(turn: Turn) -> SlotValue:
    if not _moving(turn) and CHANGE.search(normalize(turn.text).text) is None:
        return None
    return services_named(turn.text, await service_names(turn.ctx.session)) or None


def _when(turn: Turn) -> SlotValue:
    change = CHANGE.search(normalize(turn.text).text)
    if change is None and turn.flow.asking not in ("session", CONFIRM):
        return None  # a time said without a change names the booking (明天的康复去不了了)
    wanted = wanted_in(turn.text, turn.ctx.now, strict=change is not None)
    return wanted.value() if wanted is not None else None


async def _choice(turn: Turn) -> Choice | None:
    booking = await booking_of(turn)
    if booking is None or booking.slot is None:
        return None
    own = booking.slot.weekly
    station = turn.flow.get("station") or str(own.station_id)
    services = turn.flow.get("service")
    return await choose(
        turn.ctx.session,
        int(str(station)),
        turn.ctx.now,
        wanted_of(turn.flow.get("when")),
        services if isinstance(services, list) else [own.service],
        exclude=f"{own.id}@{booking.slot.day.isoformat()}",
    )


async def _single(turn: Turn) -> SlotValue:
    if not _moving(turn):
        return None
    choice = await _choice(turn)
    single = choice.single if choice is not None else None
    return key_of(single) if single is not None else None


async def _session_options(turn: Turn) -> Sequence[Option]:
    choice = await _choice(turn) if _moving(turn) else None
    return as_options(choice.offers[:MAX_SHOWN], exact=choice.exact) if choice is not None else []


async def _station_id(turn: Turn) -> int | None:
    booking = await booking_of(turn)
    chosen = turn.flow.get("station")
    if chosen is not None:
        return int(str(chosen))
    return booking.slot.weekly.station_id if booking is not None and booking.slot else None


async def _keep_if_fits(turn: Turn, value: SlotValue) -> Verdict:
    """A time that fits the new session chosen changes nothing (对 还是上午九点)."""
    station, chosen = await _station_id(turn), turn.flow.get("session")
    if await fits_chosen(turn.ctx.session, station, chosen, wanted_of(value), turn.ctx.now):
        return Accept(turn.flow.get("when"))
    return Accept(value)


async def _check_session(turn: Turn, value: SlotValue) -> Verdict:
    station = await _station_id(turn)
    offer = await find_offer(turn.ctx.session, station, value, turn.ctx.now) if station else None
    if offer is None or offer.left <= 0:
        return Refuse("这一场已经约满了，换一场吧。")
    return Accept(value)


# ------------------------------------------------------------------ what the bot says


async def _ask_booking(turn: Turn) -> str:
    return "您有这几个预约，要改哪一个？"


async def _ask_action(turn: Turn) -> str:
    booking = await booking_of(turn)
    what = f"{booking.number}：{booking_summary(booking)}。" if booking is not None else ""
    return f"{what}要取消，还是改个时间？比如：改到周五上午。"


async def _ask_session(turn: Turn) -> str:
    choice = await _choice(turn) or Choice((), False)
    station = await station_of(turn.ctx.session, await _station_id(turn))
    return choice_prompt(station.name if station is not None else "", choice, "改到哪一场？")


async def _summary(turn: Turn) -> str:
    booking = await booking_of(turn)
    if booking is None:
        return "对吗？"
    if turn.flow.get("action") == CANCEL:
        what = "预约" if booking.kind == "rehab" else "报名"
        return (
            f"取消{what} {booking.number}：{booking_summary(booking)}{_for(booking)}。确定取消吗？"
        )
    station = await _station_id(turn)
    offer = (
        await find_offer(turn.ctx.session, station, turn.flow.get("session"), turn.ctx.now)
        if station
        else None
    )
    where = await station_of(turn.ctx.session, station)
    if offer is None or where is None:
        return "对吗？"
    return (
        f"把预约 {booking.number} 改到 {when_text(offer.starts_at)} {offer.weekly.service}，"
        f"{where.name}。对吗？"
    )


def read_change_answer(turn: Turn) -> Answer:
    """Words of cancelling agree with a cancellation; 还是不取消了 keeps the booking."""
    plain = normalize(turn.text).text
    if KEEP_WORDS.search(plain):
        return Answer(AnswerKind.WITHDRAW)
    answer = read_answer(turn.text, turn.intent, turn.confidence)
    if answer.kind is not AnswerKind.WITHDRAW or not CANCEL_WORDS.search(plain):
        return answer
    cancelling = turn.flow.get("action") == CANCEL
    if turn.flow.asking == CONFIRM and cancelling:
        return Answer(AnswerKind.YES)
    return Answer(AnswerKind.NONE, plain)  # the words say what to do: read as the action


# ------------------------------------------------------------------ doing it


async def _none_to_change(turn: Turn) -> None:
    if not await upcoming(turn):
        turn.ctx.action = "booking_none"
        turn.ctx.reply(
            "您目前没有待参加的康复预约或活动报名。要取消上门服务，请发送“取消订单 订单号”。"
        )
        turn.dialogue.flow = None


async def cancel_booking(session: AsyncSession, booking: Booking, now: datetime) -> str:
    """Cancel a booking and say so; the place goes back to others."""
    if not await cancel(session, booking, now):
        return f"预约 {booking.number} 已经不能取消了（已取消或已登记到场）。"
    done = "已取消预约" if booking.kind == "rehab" else "已取消报名"
    return f"{done} {booking.number}（{booking_summary(booking)}），名额已让给其他居民。"


async def change(turn: Turn) -> None:
    """Cancel, or move to the chosen session (a place taken meanwhile: choose again)."""
    ctx, flow = turn.ctx, turn.flow
    booking = await booking_of(turn)
    if booking is None:
        return
    if flow.get("action") == CANCEL:
        ctx.action = f"booking_cancelled:{booking.number}"
        ctx.reply(await cancel_booking(ctx.session, booking, ctx.now))
        return
    station = await _station_id(turn)
    offer = (
        await find_offer(ctx.session, station, flow.get("session"), ctx.now) if station else None
    )
    if offer is None:
        flow.values.pop("session", None)
        return
    outcome = await reschedule(ctx.session, booking, offer.weekly.id, offer.day)
    if outcome.status == "full":
        flow.values.pop("session", None)
        flow.offered.pop("session", None)
        ctx.reply("抱歉，这个时间刚刚被约满了。")
        return
    if outcome.status == "duplicate":
        ctx.reply("这个时间已经为这位约过了，原来的预约没有变。")
        return
    if booking.starts_at - ctx.now <= REMIND_AHEAD:
        booking.reminded_at = ctx.now  # this message is the reminder
    turn.remember("booking", str(booking.number))
    ctx.action = f"booking_moved:{booking.number}"
    ctx.reply(f"已改到 {booking_summary(booking)}，预约号不变：{booking.number}。")


def _slots() -> tuple[Slot, ...]:
    return (
        Slot(
            "booking",
            "预约",
            _ask_booking,
            extract=(_booking_in,),
            options=_booking_options,
            validate=_check_booking,
            resets=("session",),
        ),
        Slot(
            "action",
            "办理",
            _ask_action,
            extract=(_action,),
            options=_static_actions,
            validate=_check_action,
        ),
        Slot(
            "station",
            "站点",
            "去哪个站？",
            extract=(_station,),
            required=never,
            resets=("session",),
        ),
        Slot(
            "service",
            "项目",
            "约哪个项目？",
            extract=(_service,),
            required=never,
            resets=("session",),
        ),
        Slot(
            "when",
            "时间",
            "改到哪天？比如：周五上午。",
            extract=(_when,),
            validate=_keep_if_fits,
            merge=merged,
            refine=True,
            required=never,
            resets=("session",),
        ),
        Slot(
            "session",
            "新时间",
            _ask_session,
            extract=(_single,),
            options=_session_options,
            validate=_check_session,
            required=_moving,
        ),
    )


async def _static_actions(turn: Turn) -> Sequence[Option]:
    return ACTIONS


CHANGE_FORM = Form(
    title="预约修改",
    choice_with_yes_completes=True,
    name=FORM,
    intents=("cancel_booking",),
    slots=_slots(),
    complete=change,
    summary=_summary,
    on_start=_none_to_change,
    withdrawn="好的，预约不变，还按原来的时间。",
    read_answer=read_change_answer,
)
