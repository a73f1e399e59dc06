"""After a ticket is resolved the resident rates it (1–5, 满意/不满意); low marks: call-back."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from handlers.dialogue import choice_number, squeeze
from handlers.registry import intent
from handlers.ticket_notices import label_of
from storage.community import workers_with_role
from storage.push import push_to_worker
from storage.ticket_flow import TransitionError, move, record_event
from storage.tickets import Ticket, ticket_by_number

WORDS = {
    "非常满意": 5,
    "很满意": 5,
    "满意": 5,
    "挺好": 5,
    "还行": 4,
    "还可以": 4,
    "一般": 3,
    "不满意": 2,
    "不太满意": 2,
    "很不满意": 1,
    "非常不满意": 1,
    "差": 1,
    "很差": 1,
}
CALLBACK_BELOW = 4


def rating_of(text: str) -> int | None:
    """A score 1–5 from a digit or a word of satisfaction, else None."""
    choice = choice_number(text)
    if choice is not None:
        return choice if 1 <= choice <= 5 else None
    bare = squeeze(text)
    for suffix in ("的", "了"):
        bare = bare.removesuffix(suffix)
    return WORDS.get(bare)


async def awaiting_rating(ctx: Context) -> Ticket | None:
    """The resident's most recently resolved ticket that has no rating yet."""
    stmt = select(Ticket).where(
        Ticket.reporter_id == ctx.resident.id, Ticket.status == "resolved", Ticket.rating.is_(None)
    )
    return (await ctx.session.scalars(stmt.order_by(Ticket.resolved_at.desc()).limit(1))).first()


async def rate(ctx: Context, ticket: Ticket, score: int) -> None:
    """Record the score, close the ticket, and ask staff to call back after a low mark."""
    actor = f"resident:{ctx.resident.id}"
    ticket.rating, ticket.rating_note = score, ctx.text[:255]
    ticket.callback_needed = score < CALLBACK_BELOW
    await record_event(ctx.session, ticket, "rated", actor, note=f"{score} 分：{ctx.text[:100]}")
    try:
        await move(ctx.session, ticket, "closed", actor, ctx.now, note="居民评价后办结")
    except TransitionError:
        pass
    ctx.action = f"ticket_rated:{ticket.number}:{score}"
    if ticket.callback_needed:
        for staff in await workers_with_role(ctx.session, "staff"):
            await push_to_worker(
                ctx.session,
                staff,
                f"【回访】工单 {ticket.number}【{label_of(ctx.services, ticket)}】"
                f"居民评价 {score} 分，请电话回访。",
                "callback_requested",
            )
        ctx.reply("收到您的评价，很抱歉没让您满意。社区工作人员会打电话回访，了解情况。")
    else:
        ctx.reply("谢谢您的评价！有问题随时找我们。")


async def take_rating(ctx: Context) -> bool:
    """Treat a bare score as the rating of the ticket waiting for one; False if it is not."""
    score = rating_of(ctx.text)
    if score is None:
        return False
    ticket = await awaiting_rating(ctx)
    if ticket is None:
        return False
    await rate(ctx, ticket, score)
    return True


@intent("cmd:评价")
async def rate_command(ctx: Context) -> bool:
    """评价 1001 5: rate a named ticket of one's own."""
    cmd = ctx.command
    if cmd is None or not cmd.number or not cmd.number.isdigit():
        return False
    ticket = await ticket_by_number(ctx.session, cmd.number)
    score = rating_of(cmd.rest) if cmd.rest else None
    if ticket is None or ticket.reporter_id != ctx.resident.id or ticket.status != "resolved":
        ctx.action = "rating_refused"
        ctx.reply(f"工单 {cmd.number} 现在不能评价（不是您的工单，或还没处理完）。")
    elif score is None:
        ctx.action = "rating_ask"
        ctx.reply(f"请在号码后面加分数，比如：评价 {cmd.number} 5（5 最满意）。")
    else:
        await rate(ctx, ticket, score)
    return True
