"""Chat commands of bookings: residents `取消预约 Y1001` / `改约 Y1001`, staff `签到` / `缺席`.

取消预约 with a number cancels at once (the resident typed what the bot told them to); without
one, or 改约, starts the change request, which asks what it needs.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.engine.runner import Engine
from handlers.registry import intent
from handlers.rehab.changes import CHANGE_FORM, cancel_booking
from handlers.rehab.wording import booking_summary
from storage.bookings import SELF, booking_by_number, mark_attendance

ATTENDANCE_ROLES = frozenset({"staff", "leader"})


async def start_change(ctx: Context) -> None:
    """Begin the change request from this message (the booking and what to do read from it)."""
    await Engine((CHANGE_FORM,)).start(ctx, CHANGE_FORM)


def _number(ctx: Context) -> str | None:
    return ctx.command.number if ctx.command else None


@intent("cmd:取消预约")
async def cancel_command(ctx: Context) -> bool:
    """`取消预约 Y1001`: cancel that booking at once (without a number: which one)."""
    number = _number(ctx)
    if number is not None and not number.startswith("Y"):
        return False  # not a booking number: someone else's command
    if number is None:
        await start_change(ctx)
        return True
    booking = await booking_by_number(ctx.session, number)
    if booking is None or booking.resident_id != ctx.resident.id or booking.starts_at <= ctx.now:
        ctx.action = "booking_not_found"
        ctx.reply(f"没有找到您名下还没到时间的预约 {number}。发送“查询”可以看您的预约。")
        return True
    ctx.action = f"booking_cancelled:{number}"
    ctx.reply(await cancel_booking(ctx.session, booking, ctx.now))
    return True


@intent("cmd:改约")
async def reschedule_command(ctx: Context) -> bool:
    """`改约 Y1001`: offer other times for that rehab booking."""
    number = _number(ctx)
    if number is not None and not number.startswith("Y"):
        return False
    await start_change(ctx)
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
    number = _number(ctx)
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
