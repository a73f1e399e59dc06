"""Grid workers work from chat: 接单 / 到场 / 完成 / 转派 a ticket, 我的任务; 派单 for leaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select

from handlers import ticket_actions, ticket_service
from handlers.context import Context
from handlers.errors import Invalid
from handlers.registry import intent
from handlers.sla import COLOUR_WORDS, sla_colour
from handlers.ticket_actions import ActionRefused
from handlers.ticket_notices import label_of
from storage.community import Worker
from storage.tickets import OPEN_STATUSES, Ticket, ticket_by_number


async def _run(ctx: Context, action: Callable[[Worker, Ticket], Awaitable[str]]) -> bool:
    """Find the named ticket and run the action for the sending worker; False if not ours."""
    cmd = ctx.command
    if ctx.worker is None or cmd is None or not cmd.number or not cmd.number.isdigit():
        return False
    ctx.action = f"worker:{cmd.verb}"
    ticket = await ticket_by_number(ctx.session, cmd.number)
    if ticket is None:
        ctx.reply(f"没有找到工单 {cmd.number}，请核对号码。发送“我的任务”查看待办。")
        return True
    try:
        ctx.reply(await action(ctx.worker, ticket))
    except ActionRefused as refused:
        ctx.action = f"worker_refused:{cmd.verb}"
        ctx.reply(f"{refused}发送“我的任务”查看待办。")
    return True


@intent("cmd:接单")
async def accept(ctx: Context) -> bool:
    """接单 1001: accept a task."""
    return await _run(
        ctx, lambda w, t: ticket_actions.accept(ctx.session, ctx.services, w, t, ctx.now)
    )


@intent("cmd:到场")
async def arrive(ctx: Context) -> bool:
    """到场 1001: on site."""
    return await _run(
        ctx, lambda w, t: ticket_actions.arrive(ctx.session, ctx.services, w, t, ctx.now)
    )


@intent("cmd:完成")
async def finish(ctx: Context) -> bool:
    """完成 1001 已更换灯泡: resolved with a note (a photo link in the note is kept)."""
    note = ctx.command.rest if ctx.command else ""
    return await _run(
        ctx, lambda w, t: ticket_actions.finish(ctx.session, ctx.services, w, t, ctx.now, note)
    )


@intent("cmd:转派")
async def hand_back(ctx: Context) -> bool:
    """转派 1001 原因: give the task back to the leader."""
    reason = ctx.command.rest if ctx.command else ""
    return await _run(
        ctx,
        lambda w, t: ticket_actions.hand_back(ctx.session, ctx.services, w, t, ctx.now, reason),
    )


@intent("cmd:派单")
async def dispatch_to(ctx: Context) -> bool:
    """派单 1001 王建国: a leader or staff member gives a ticket to a named worker."""
    name = ctx.command.rest.strip() if ctx.command else ""

    async def give(manager: Worker, ticket: Ticket) -> str:
        try:
            _, sentence = await ticket_service.dispatch(
                ctx.session, ctx.services, ticket, name, ctx.now, manager
            )
        except Invalid as bad:  # the chat's own words for the one invalid field
            raise ActionRefused(
                f"没有找到名叫“{name}”的工作人员，请核对：派单 {ticket.number} 姓名。"
            ) from bad
        return sentence

    return await _run(ctx, give)


@intent("cmd:我的任务")
async def my_tasks(ctx: Context) -> bool:
    """我的任务: the sender's open tasks with their SLA colour."""
    if ctx.worker is None:
        return False
    ctx.action = "worker:我的任务"
    stmt = select(Ticket).where(
        Ticket.assignee_id == ctx.worker.id, Ticket.status.in_(OPEN_STATUSES)
    )
    tickets = list((await ctx.session.scalars(stmt.order_by(Ticket.id).limit(20))).all())
    if not tickets:
        ctx.reply("您目前没有待办任务。")
        return True
    lines = [
        f"{t.number}【{label_of(ctx.services, t)}】{t.location or ''} "
        f"{COLOUR_WORDS[sla_colour(t, ctx.now)]}"
        for t in tickets
    ]
    ctx.reply("您的待办任务：\n" + "\n".join(lines))
    return True
