"""Progress questions: a resident's own open tickets, or one ticket by its number."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.registry import intent
from storage.tickets import Ticket, open_tickets_of, ticket_by_number

STATUS_LABELS = {
    "submitted": "已受理，等待派单",
    "assigned": "已派给网格员",
    "accepted": "网格员已接单",
    "in_progress": "正在处理",
    "resolved": "已处理完成",
    "closed": "已办结",
    "cancelled": "已撤销",
    "duplicate": "已合并到同一问题",
}
_NUMBER = re.compile(r"(?<!\d)(\d{4,6})(?!\d)")


def _line(ctx: Context, ticket: Ticket) -> str:
    label = ctx.services.category_labels.get(ticket.category, "问题")
    place = f" {ticket.location}" if ticket.location else ""
    return (
        f"工单 {ticket.number}【{label}】{place}：{STATUS_LABELS.get(ticket.status, ticket.status)}"
    )


@intent("check_status")
async def check_status(ctx: Context) -> None:
    """Answer with one ticket when a number is given, else the resident's open tickets."""
    ctx.action = "status"
    quoted = ctx.entity("ticket_id")
    match = _NUMBER.search(quoted or ctx.text)
    if match:
        ticket = await ticket_by_number(ctx.session, match.group(1))
        if ticket is None or ticket.reporter_id != ctx.resident.id:
            ctx.reply(
                f"没有找到您名下的工单 {match.group(1)}，请核对号码，或发送“查询”看全部进度。"
            )
            return
        ctx.reply(_line(ctx, ticket))
        return
    tickets = await open_tickets_of(ctx.session, ctx.resident.id)
    if not tickets:
        ctx.reply("您目前没有正在办理的工单。有问题可以直接告诉我。")
        return
    ctx.reply("您正在办理的工单：\n" + "\n".join(_line(ctx, t) for t in tickets))
