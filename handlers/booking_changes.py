"""Changes to bookings: cancel or reschedule, staff marking attendance, the day-before reminder.

Residents say 明天的康复去不了了 (cancel_booking) or type `取消预约 Y1001` / `改约 Y1001`;
staff type `签到 Y1001` / `缺席 Y1001`. Activity sign-ups are cancelled the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.booking import present_times, take_time
from handlers.booking_steps import (
    REMIND_AHEAD,
    booking_summary,
    retry,
    time_expression,
    when_text,
    who_text,
)
from handlers.context import Context, Services
from handlers.dialogue import choice_number
from handlers.jobs import periodic
from handlers.registry import intent
from nlu.timeparse import SHANGHAI, resolve_time
from storage.base import existing
from storage.booking_places import SlotOffer, cancel, reschedule
from storage.bookings import (
    SELF,
    Booking,
    claim_due_reminders,
    mark_attendance,
    place_of,
    title_of,
    upcoming_bookings_of,
)
from storage.push import push_to_resident
from storage.residents import Resident

BOOKING_NUMBER = re.compile(r"[Yy]\s?(\d{4,6})(?!\d)")
ATTENDANCE_ROLES = frozenset({"staff", "leader"})
MAX_LISTED = 5


def _quoted_number(ctx: Context) -> str | None:
    match = BOOKING_NUMBER.search(ctx.text)
    return f"Y{match.group(1)}" if match else None


@intent("cancel_booking")
async def cancel_booking(ctx: Context) -> None:
    """Cancel or reschedule a booking: find which one, then ask what to do with it."""
    await _start(ctx, _quoted_number(ctx), mode=None)


@intent("cmd:取消预约")
async def cancel_command(ctx: Context) -> bool:
    """`取消预约 Y1001`: cancel that booking at once (without a number: choose one)."""
    return await _command(ctx, "cancel")


@intent("cmd:改约")
async def reschedule_command(ctx: Context) -> bool:
    """`改约 Y1001`: offer other times for that rehab booking."""
    return await _command(ctx, "reschedule")


async def _command(ctx: Context, mode: str) -> bool:
    number = ctx.command.number if ctx.command else None
    if number is not None and not number.startswith("Y"):
        return False  # not a booking number: someone else's command
    await _start(ctx, number, mode)
    return True


async def _start(ctx: Context, number: str | None, mode: str | None) -> None:
    ctx.state.clear()
    bookings = await upcoming_bookings_of(ctx.session, ctx.resident.id, ctx.now)
    if number is not None:
        bookings = [b for b in bookings if b.number == number]
        if not bookings:
            ctx.action = "booking_not_found"
            ctx.reply(f"没有找到您名下还没到时间的预约 {number}。发送“查询”可以看您的预约。")
            return
    elif not bookings:
        ctx.action = "booking_none"
        ctx.reply("您目前没有待参加的康复预约或活动报名。要取消上门服务，请发送“取消订单 订单号”。")
        return
    expression = time_expression(ctx)
    span = resolve_time(expression, ctx.now) if expression and number is None else None
    if span is not None:
        bookings = [b for b in bookings if span.start <= b.starts_at < span.end] or bookings
    ctx.state.update(flow="booking_change", mode=mode, retries=0)
    if len(bookings) == 1:
        await _chosen(ctx, bookings[0])
        return
    listed = bookings[:MAX_LISTED]
    ctx.state.update(step="pick", bookings=[b.id for b in listed])
    ctx.action = "booking_pick"
    lines = [f"{i} {b.number} {booking_summary(b)}{_for(b)}" for i, b in enumerate(listed, 1)]
    ctx.reply("\n".join(["您有这些预约，是哪一个？回复序号：", *lines]))


def _for(booking: Booking) -> str:
    return "" if booking.person == SELF else f"（{booking.person}）"


async def _chosen(ctx: Context, booking: Booking) -> None:
    ctx.state.update(booking=booking.id, retries=0)
    mode = ctx.state.get("mode")
    if mode == "cancel" or (mode == "reschedule" and booking.kind != "rehab"):
        await _cancel(ctx, booking)
    elif mode == "reschedule":
        await _offer_other_times(ctx, booking)
    else:
        ctx.state["step"] = "what"
        ctx.action = "booking_ask_change"
        what = "回复 1 取消预约，回复 2 改个时间，回复 3 不变。"
        if booking.kind != "rehab":
            what = "回复 1 取消报名，回复 2 不取消。"
        ctx.reply(f"{booking.number}：{booking_summary(booking)}{_for(booking)}。\n{what}")


async def _cancel(ctx: Context, booking: Booking) -> None:
    ctx.state.clear()
    if not await cancel(ctx.session, booking, ctx.now):
        ctx.reply(f"预约 {booking.number} 已经不能取消了（已取消或已登记到场）。")
        return
    ctx.action = f"booking_cancelled:{booking.number}"
    done = "已取消预约" if booking.kind == "rehab" else "已取消报名"
    ctx.reply(f"{done} {booking.number}（{booking_summary(booking)}），名额已让给其他居民。")


async def _offer_other_times(ctx: Context, booking: Booking) -> None:
    slot = booking.slot
    if slot is None:
        raise ValueError(f"booking {booking.number} has no rehab slot to move from")
    exclude = [slot.weekly_session_id, slot.day.isoformat()]
    ctx.state.update(step="slot", station=slot.weekly.station_id, exclude=exclude)
    offer = await present_times(ctx, slot.weekly.station_id, None, exclude)
    if offer is not None:
        await _move(ctx, offer)


async def _move(ctx: Context, offer: SlotOffer) -> None:
    booking = await existing(ctx.session, Booking, int(ctx.state["booking"]))
    outcome = await reschedule(ctx.session, booking, offer.weekly.id, offer.day)
    if outcome.status == "full":
        ctx.reply("抱歉，这个时间刚刚被约满了。")
        await _offer_other_times(ctx, booking)
        return
    ctx.state.clear()
    if outcome.status == "duplicate":
        ctx.reply("这个时间已经为这位约过了，原来的预约没有变。")
        return
    if booking.starts_at - ctx.now <= REMIND_AHEAD:
        booking.reminded_at = ctx.now  # this message is the reminder
    ctx.action = f"booking_moved:{booking.number}"
    ctx.reply(f"已改到 {booking_summary(booking)}，预约号不变：{booking.number}。")


@intent("flow:booking_change")
async def continue_change(ctx: Context) -> bool:
    """Take the answer: which booking, what to do with it, or the new time."""
    step = ctx.state.get("step")
    if step == "slot":
        return await take_time(ctx, _move)
    choice = choice_number(ctx.text)
    if step == "pick":
        ids = ctx.state.get("bookings") or []
        if choice is None or not 1 <= choice <= len(ids):
            await retry(ctx, "请回复预约前面的序号，比如：1。")
            return True
        await _chosen(ctx, await existing(ctx.session, Booking, ids[choice - 1]))
        return True
    booking = await ctx.session.get(Booking, int(ctx.state.get("booking") or 0))
    if step != "what" or booking is None:
        return False
    keep = 3 if booking.kind == "rehab" else 2
    if choice == 1:
        await _cancel(ctx, booking)
    elif choice == 2 and booking.kind == "rehab":
        await _offer_other_times(ctx, booking)
    elif choice == keep or (choice is None and ctx.intent == "deny"):
        ctx.state.clear()
        ctx.reply(f"好的，{booking.number} 保持不变。")
    else:
        await retry(ctx, "请回复序号选择，或回复“取消”退出。")
    return True


@intent("cmd:签到")
async def mark_attended(ctx: Context) -> bool:
    """Staff: `签到 Y1001` records that the person came."""
    return await _mark(ctx, "attended", "到场")


@intent("cmd:缺席")
async def mark_no_show(ctx: Context) -> bool:
    """Staff: `缺席 Y1001` records that the person did not come."""
    return await _mark(ctx, "no_show", "缺席")


async def _mark(ctx: Context, status: str, label: str) -> bool:
    number = ctx.command.number if ctx.command else None
    if number is None or not number.startswith("Y"):
        return False
    if ctx.worker is None or ctx.worker.role not in ATTENDANCE_ROLES:
        return False  # residents and grid workers do not mark attendance
    actor = f"worker:{ctx.worker.id}"
    booking = await mark_attendance(ctx.session, number, status, actor, ctx.now)
    ctx.action = f"attendance:{number}"
    if booking is None:
        ctx.reply(f"没有找到预约 {number}，请核对号码。")
    elif booking.status != status:
        ctx.reply(f"预约 {number} 已被居民取消，不能登记{label}。")
    else:
        person = "预约人本人" if booking.person == SELF else booking.person
        ctx.reply(f"已登记{label}：{number} {person}，{booking_summary(booking)}。")
    return True


def reminder_text(booking: Booking, now: datetime) -> str:
    """The day-before reminder of a booking, in the resident's words."""
    today = now.astimezone(SHANGHAI).date()
    day = booking.starts_at.astimezone(SHANGHAI).date()
    near = {today: "今天", today + timedelta(days=1): "明天"}.get(day, "")
    who = "您" if booking.person == SELF else who_text(booking.person, booking.relation)
    if booking.slot is not None:
        weekly = booking.slot.weekly
        what = (
            f"【康复预约提醒】{near}{when_text(booking.starts_at, booking.slot.ends_at)}，"
            f"{who}在{place_of(booking)}（{weekly.station.address}）做{title_of(booking)}，"
            f"{weekly.therapist}老师。请提前10分钟到。"
        )
    else:
        what = (
            f"【活动提醒】{near}{when_text(booking.starts_at)}，{title_of(booking)}，"
            f"地点：{place_of(booking)}。{who}已报名，请准时参加。"
        )
    return what + f"去不了请回复“取消预约 {booking.number}”。"


@periodic(300)
async def remind_bookings(session: AsyncSession, services: Services, now: datetime) -> int:
    """Remind residents the day before their booking (each booking once, across processes)."""
    claimed = await claim_due_reminders(session, now, REMIND_AHEAD)
    for booking in claimed:
        resident = await session.get(Resident, booking.resident_id)
        if resident is not None:
            text = reminder_text(booking, now)
            await push_to_resident(session, resident, text, f"booking_reminder:{booking.number}")
    return len(claimed)
