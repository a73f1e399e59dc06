"""Community activities (义诊, classes, festival events): the list with places left, sign-up.

Sign-ups are bookings of kind activity (number Y…): capacity is enforced like rehab
sessions, they are cancelled through cancel_booking (取消预约 Y1001) and reminded the day
before by the booking reminder job.
"""

from __future__ import annotations

from handlers.booking_steps import (
    REMIND_AHEAD,
    ask_whom,
    retry,
    set_relation,
    take_whom,
    time_expression,
    when_text,
    who_text,
)
from handlers.context import Context
from handlers.dialogue import LEAVE_CONFIDENCE, choice_number
from handlers.registry import intent
from nlu.timeparse import resolve_time
from storage.base import existing
from storage.booking_places import book_activity
from storage.bookings import Activity, upcoming_activities

LISTED_DAYS = 30  # activities shown from now on
MAX_LISTED = 6


def _line(index: int, activity: Activity) -> str:
    left = activity.capacity - activity.booked
    places = f"还剩{left}个名额" if left > 0 else "已报满"
    return f"{index} {activity.title} {when_text(activity.starts_at)} {activity.place}，{places}"


@intent("join_activity")
async def join_activity(ctx: Context) -> None:
    """List upcoming activities with the places left; one named by its day is chosen at once."""
    ctx.state.clear()
    ctx.state.update(flow="activity", retries=0)
    set_relation(ctx, ctx.entity("relation"))
    activities = await upcoming_activities(ctx.session, ctx.now, LISTED_DAYS)
    expression = time_expression(ctx)
    span = resolve_time(expression, ctx.now) if expression else None
    if span is not None:
        that_day = [a for a in activities if span.start <= a.starts_at < span.end]
        if len(that_day) == 1 and that_day[0].booked < that_day[0].capacity:
            await _chosen(ctx, that_day[0])
            return
        if not that_day:
            ctx.reply("您说的时间没有安排活动。")
        activities = that_day or activities
    await _list(ctx, activities)


async def _list(ctx: Context, activities: list[Activity]) -> None:
    if not activities:
        ctx.state.clear()
        ctx.action = "activities_none"
        ctx.reply("最近一个月没有需要报名的活动，有新活动会在社区群里通知大家。")
        return
    listed = activities[:MAX_LISTED]
    ctx.state.update(step="pick", activities=[a.id for a in listed])
    ctx.action = "activities_list"
    lines = [_line(i, a) for i, a in enumerate(listed, 1)]
    ctx.reply("\n".join(["近期的社区活动，回复序号报名：", *lines]))


async def _chosen(ctx: Context, activity: Activity) -> None:
    ctx.state.update(activity=activity.id, retries=0)
    await ask_whom(ctx, _confirm_prompt)


async def _confirm_prompt(ctx: Context) -> None:
    activity = await existing(ctx.session, Activity, int(ctx.state["activity"]))
    ctx.action = "activity_confirm"
    ctx.reply(
        f"报名【{activity.title}】：{when_text(activity.starts_at, activity.ends_at)}，"
        f"地点：{activity.place}。{activity.description}\n"
        f"参加人：{who_text(ctx.state['person'], ctx.state.get('relation'))}。\n"
        "回复 1 确认报名，回复 2 看看别的活动，回复“取消”不报了。"
    )


@intent("flow:activity")
async def continue_activity(ctx: Context) -> bool:
    """Take the answer: which activity, for whom, and the confirmation."""
    step = ctx.state.get("step")
    choice = choice_number(ctx.text)
    if step == "pick":
        ids = ctx.state.get("activities") or []
        if choice is None or not 1 <= choice <= len(ids):
            if ctx.parse is not None and ctx.parse.confidence >= LEAVE_CONFIDENCE:
                return False
            await retry(ctx, "请回复活动前面的序号，比如：1。")
            return True
        activity = await ctx.session.get(Activity, ids[choice - 1], populate_existing=True)
        if (
            activity is None
            or activity.starts_at <= ctx.now
            or activity.booked >= activity.capacity
        ):
            ctx.reply("这个活动已经报满了，看看别的吧。")
            await _list(ctx, await upcoming_activities(ctx.session, ctx.now, LISTED_DAYS))
            return True
        await _chosen(ctx, activity)
    elif step in ("whom", "name"):
        await take_whom(ctx, _confirm_prompt)
    elif step == "confirm":
        await _take_confirmation(ctx, choice)
    else:
        return False
    return True


async def _take_confirmation(ctx: Context, choice: int | None) -> None:
    if choice == 2 or (choice is None and ctx.intent == "deny"):
        await _list(ctx, await upcoming_activities(ctx.session, ctx.now, LISTED_DAYS))
        return
    if choice != 1 and not (choice is None and ctx.intent == "affirm"):
        await retry(ctx, "请回复 1 确认报名，回复 2 看看别的活动。")
        return
    outcome = await book_activity(
        ctx.session,
        activity_id=int(ctx.state["activity"]),
        resident_id=ctx.resident.id,
        person=ctx.state["person"],
        relation=ctx.state.get("relation"),
    )
    if outcome.status == "full":
        ctx.reply("抱歉，这个活动刚刚报满了，看看别的吧。")
        await _list(ctx, await upcoming_activities(ctx.session, ctx.now, LISTED_DAYS))
        return
    ctx.state.clear()
    if outcome.status == "duplicate" or outcome.booking is None:
        ctx.action = "activity_duplicate"
        ctx.reply("这位已经报过这个活动了，不用重复报名。发送“查询”可以看您的报名。")
        return
    booking = outcome.booking
    later = booking.starts_at - ctx.now > REMIND_AHEAD
    if not later:
        booking.reminded_at = ctx.now  # this message is the reminder
    ctx.action = f"activity_booked:{booking.number}"
    ctx.reply(
        f"报名成功，报名号 {booking.number}。"
        + ("活动前一天会提醒您。" if later else "请准时参加。")
        + f"去不了请发送“取消预约 {booking.number}”，把名额让给别人。"
    )
