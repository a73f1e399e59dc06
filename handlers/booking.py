"""Rehab booking at 吉康之家 stations: station, day and time, for whom, confirm, booking number.

Times come from what the resident says (明天下午, 下周二上午; resolved relative to the
message time) or from numbered choices of the next open sessions; a full session gets
the nearest open ones instead. The choice of times is shared with rescheduling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.booking_steps import (
    REMIND_AHEAD,
    ask_whom,
    booking_summary,
    retry,
    set_relation,
    take_whom,
    time_expression,
    when_text,
    who_text,
)
from handlers.context import Context
from handlers.dialogue import LEAVE_CONFIDENCE, choice_number, squeeze
from handlers.registry import intent
from nlu.timeparse import TimeSpan, resolve_time
from storage.base import utcnow
from storage.booking_places import SlotOffer, book_slot, slot_offers
from storage.bookings import (
    SELF,
    Booking,
    RehabStation,
    booking_by_number,
    list_stations,
    upcoming_bookings_of,
)

BOOKING_DAYS = 14  # how far ahead rehab sessions can be booked
MAX_CHOICES = 5


def offer_line(index: int, offer: SlotOffer) -> str:
    """One numbered choice of a rehab session, with the places left."""
    left = f"还剩{offer.left}个名额" if offer.left > 0 else "已约满"
    weekly = offer.weekly
    return (
        f"{index} {when_text(offer.starts_at)} {weekly.service}（{weekly.therapist}老师），{left}"
    )


def requested_span(ctx: Context) -> TimeSpan | None:
    """The day or time the resident named in this message, if any."""
    expression = time_expression(ctx)
    span = resolve_time(expression, ctx.now) if expression else None
    if span is None and len(squeeze(ctx.text)) <= 12:
        span = resolve_time(ctx.text, ctx.now)
    return span


def nearest(offers: list[SlotOffer], around: datetime, count: int) -> list[SlotOffer]:
    """The open sessions closest to a wanted time, in time order."""
    free = sorted((o for o in offers if o.left > 0), key=lambda o: abs(o.starts_at - around))
    return sorted(free[:count], key=lambda o: o.starts_at)


async def present_times(
    ctx: Context, station_id: int, span: TimeSpan | None, exclude: list[object] | None = None
) -> SlotOffer | None:
    """The one open session matching the wanted time, or list numbered choices (step slot)."""
    offers = [
        o
        for o in await slot_offers(ctx.session, station_id, ctx.now, BOOKING_DAYS)
        if [o.weekly.id, o.day.isoformat()] != exclude
    ]
    intro = "请选择时间，回复序号："
    choices = [o for o in offers if o.left > 0][:MAX_CHOICES]
    if span is not None:
        wanted = [o for o in offers if o.starts_at < span.end and o.ends_at > span.start]
        free = [o for o in wanted if o.left > 0]
        if len(free) == 1:
            return free[0]
        if free:
            choices = free[:MAX_CHOICES]
        else:
            intro = "这个时间已经约满了。" if wanted else "您说的时间没有康复师坐诊。"
            intro += "最近还能约的时间，回复序号："
            choices = nearest(offers, span.start, MAX_CHOICES - 1)
    if not choices:
        ctx.state.clear()
        ctx.action = "rehab_no_slots"
        ctx.reply(f"最近{BOOKING_DAYS}天的康复名额都约满了，请过几天再来约，或回复“转人工”。")
        return None
    ctx.state.update(
        step="slot", offers=[[o.weekly.id, o.day.isoformat()] for o in choices], retries=0
    )
    lines = [offer_line(i, o) for i, o in enumerate(choices, 1)]
    ctx.action = "rehab_offer_times"
    ctx.reply("\n".join([intro, *lines, "也可以直接说哪天，比如：下周二上午。"]))
    return None


async def find_offer(ctx: Context, weekly_id: int, day: str) -> SlotOffer | None:
    """A session of the chosen station on a date, if it is still ahead."""
    offers = await slot_offers(ctx.session, int(ctx.state["station"]), ctx.now, BOOKING_DAYS)
    return next((o for o in offers if o.weekly.id == weekly_id and o.day.isoformat() == day), None)


async def chosen_offer(ctx: Context) -> SlotOffer | None:
    """The session the resident picked from the listed choices, if it is still ahead."""
    choice = choice_number(ctx.text)
    listed = ctx.state.get("offers") or []
    if choice is None or not 1 <= choice <= len(listed):
        return None
    weekly_id, day = listed[choice - 1]
    return await find_offer(ctx, weekly_id, day)


@intent("book_rehab")
async def book_rehab(ctx: Context) -> None:
    """Start a rehab booking: station (asked if several), then the times on offer."""
    ctx.state.clear()
    ctx.state.update(flow="rehab", retries=0)
    set_relation(ctx, ctx.entity("relation"))
    if expression := time_expression(ctx):
        ctx.state["time"] = expression
    stations = await list_stations(ctx.session)
    if not stations:
        ctx.state.clear()
        ctx.reply("目前还没有开放预约的康复站点，请回复“转人工”联系社区工作人员。")
        return
    place = ctx.entity("location") or ""
    matching = [s for s in stations if place and (place in s.name + s.address or s.name in place)]
    station = stations[0] if len(stations) == 1 else matching[0] if len(matching) == 1 else None
    if station is not None:
        await _station_chosen(ctx, station)
        return
    ctx.state.update(step="station", stations=[s.id for s in stations])
    ctx.action = "rehab_ask_station"
    lines = [f"{i} {s.name}（{s.address}）" for i, s in enumerate(stations, 1)]
    ctx.reply("\n".join(["好的，帮您预约康复。去哪个站点？回复序号：", *lines]))


async def _station_chosen(ctx: Context, station: RehabStation) -> None:
    ctx.state.update(station=station.id, station_name=station.name, address=station.address)
    text = ctx.state.pop("time", None)
    span = resolve_time(text, ctx.now) if text else None
    offer = await present_times(ctx, station.id, span)
    if offer is not None:
        await _slot_chosen(ctx, offer)


async def _slot_chosen(ctx: Context, offer: SlotOffer) -> None:
    ctx.state.update(slot=[offer.weekly.id, offer.day.isoformat()], retries=0)
    await ask_whom(ctx, _confirm_prompt)


async def _confirm_prompt(ctx: Context) -> None:
    offer = await find_offer(ctx, *ctx.state["slot"])
    if offer is None:  # the session began meanwhile
        await present_times(ctx, int(ctx.state["station"]), None)
        return
    ctx.action = "rehab_confirm"
    ctx.reply(
        f"请确认预约：{when_text(offer.starts_at, offer.ends_at)}，"
        f"{ctx.state['station_name']}（{ctx.state['address']}），"
        f"{offer.weekly.service}，{offer.weekly.therapist}老师；"
        f"预约人：{who_text(ctx.state['person'], ctx.state.get('relation'))}。\n"
        "回复 1 确认，回复 2 换个时间，回复“取消”不约了。"
    )


@intent("flow:rehab")
async def continue_rehab(ctx: Context) -> bool:
    """Take the answer to the booking's current question."""
    step = ctx.state.get("step")
    if step == "station":
        choice = choice_number(ctx.text)
        ids = ctx.state.get("stations") or []
        stations = {s.id: s for s in await list_stations(ctx.session)}
        if choice is None or not 1 <= choice <= len(ids) or ids[choice - 1] not in stations:
            await retry(ctx, "请回复站点前面的序号，比如：1。")
            return True
        await _station_chosen(ctx, stations[ids[choice - 1]])
    elif step == "slot":
        return await take_time(ctx, _slot_chosen)
    elif step in ("whom", "name"):
        await take_whom(ctx, _confirm_prompt)
    elif step == "confirm":
        await _take_confirmation(ctx)
    else:
        return False
    return True


async def take_time(ctx: Context, chosen: Callable[[Context, SlotOffer], Awaitable[None]]) -> bool:
    """Take a numbered session or a named day; False when the message is about something else."""
    offer = await chosen_offer(ctx)
    if offer is not None and offer.left > 0:
        await chosen(ctx, offer)
        return True
    span = requested_span(ctx) if offer is None else TimeSpan(offer.starts_at, offer.ends_at, "")
    if span is not None:
        station, exclude = int(ctx.state["station"]), ctx.state.get("exclude")
        if (single := await present_times(ctx, station, span, exclude)) is not None:
            await chosen(ctx, single)
        return True
    parse = ctx.parse
    if parse is not None and parse.intent not in ("affirm", "deny"):
        if parse.confidence >= LEAVE_CONFIDENCE:
            return False
    await retry(ctx, "请回复时间前面的序号，或者直接说哪天，比如：下周二上午。")
    return True


async def _take_confirmation(ctx: Context) -> None:
    choice = choice_number(ctx.text)
    if choice == 2 or (choice is None and ctx.intent == "deny"):
        await present_times(ctx, int(ctx.state["station"]), None)
        return
    if choice != 1 and not (choice is None and ctx.intent == "affirm"):
        await retry(ctx, "请回复 1 确认预约，回复 2 换个时间。")
        return
    weekly_id, day = ctx.state["slot"]
    outcome = await book_slot(
        ctx.session,
        weekly_session_id=weekly_id,
        day=date.fromisoformat(day),
        resident_id=ctx.resident.id,
        person=ctx.state["person"],
        relation=ctx.state.get("relation"),
    )
    if outcome.status == "full":
        offer = await find_offer(ctx, weekly_id, day)
        span = TimeSpan(offer.starts_at, offer.ends_at, "") if offer else None
        await present_times(ctx, int(ctx.state["station"]), span)
        return
    if outcome.status == "duplicate" or outcome.booking is None:
        ctx.state.clear()
        ctx.action = "rehab_duplicate"
        ctx.reply("这个时间已经为这位约过了，不用重复预约。发送“查询”可以看您的预约。")
        return
    await _booked(ctx, outcome.booking)


async def _booked(ctx: Context, booking: Booking) -> None:
    later = booking.starts_at - ctx.now > REMIND_AHEAD
    if not later:
        booking.reminded_at = ctx.now  # this message is the reminder
    ctx.state.clear()
    ctx.action = f"rehab_booked:{booking.number}"
    ctx.reply(
        f"预约成功，预约号 {booking.number}。\n"
        f"{who_text(booking.person, booking.relation)}：{booking_summary(booking)}。\n"
        "请提前10分钟到，有残疾证或病历请带上。"
        + ("前一天会再提醒您。" if later else "")
        + f"去不了发送“取消预约 {booking.number}”，改时间发送“改约 {booking.number}”。"
    )


STEP_LABELS = {
    ("rehab", "booked"): "已预约，请按时到站",
    ("activity", "booked"): "已报名，请按时参加",
    ("rehab", "attended"): "已到站参加康复",
    ("activity", "attended"): "已参加",
    ("rehab", "no_show"): "未到站（已登记缺席）",
    ("activity", "no_show"): "未参加（已登记缺席）",
}


def status_line(booking: Booking) -> str:
    """One booking for check_status: number, what, when, where, for whom, and its step."""
    step = STEP_LABELS.get((booking.kind, booking.status), "已取消")
    who = "" if booking.person == SELF else f"（{booking.person}）"
    return f"预约 {booking.number} {booking_summary(booking)}{who}：{step}"


async def status_lines(
    session: AsyncSession, resident_id: int, now: datetime | None = None
) -> list[str]:
    """The resident's upcoming bookings for check_status, each naming its step."""
    upcoming = await upcoming_bookings_of(session, resident_id, now or utcnow())
    return [status_line(b) for b in upcoming]


async def status_line_of(session: AsyncSession, resident_id: int, number: str) -> str | None:
    """The line of one booking the resident quoted (查询 Y1001); None if it is not theirs."""
    booking = await booking_by_number(session, number)
    return status_line(booking) if booking and booking.resident_id == resident_id else None
