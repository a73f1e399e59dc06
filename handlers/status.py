"""Progress questions: a resident's own open tickets, or one ticket by its number."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import home_care, rehab, wishes
from handlers.context import Context
from handlers.registry import intent
from nlu.timeparse import SHANGHAI
from storage.community import Worker
from storage.tickets import OPEN_STATUSES, Ticket, TicketFollower, ticket_by_number
from storage.wishes import wish_by_number

StatusSource = Callable[[AsyncSession, int], Awaitable[list[str]]]
NumberLookup = Callable[[AsyncSession, int, str], Awaitable[str | None]]


def status_sources() -> list[StatusSource]:
    """Other services' lines for a resident (bookings, home-care orders, wishes)."""
    return [rehab.status_lines, home_care.status_lines, wishes.status_lines]


def number_lookups() -> dict[str, NumberLookup]:
    """Who answers for a quoted number, by its letter (Y booking, J home care, X wish)."""
    return {"Y": rehab.status_line_of, "J": home_care.order_status_line, "X": _wish_line}


async def _wish_line(session: AsyncSession, resident_id: int, number: str) -> str | None:
    """The line of one wish the resident quoted (查询 X1001); None if it is not theirs."""
    wish = await wish_by_number(session, number)
    if wish is None or wish.resident_id != resident_id:
        return None
    return f"心愿 {wish.number}【{wish.wish}】：{wishes.STATUS_TEXT.get(wish.status, wish.status)}"


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
_NUMBER = re.compile(r"(?<![\dA-Za-z])([A-Za-z]?)(\d{4,6})(?!\d)")


HOLDER_STEPS = {
    "assigned": "已派给{who}，等待接单",
    "accepted": "{who}已接单",
    "in_progress": "{who}正在现场处理",
}


async def _line(ctx: Context, ticket: Ticket) -> str:
    """One ticket: its category, place, current step and who holds it."""
    label = ctx.services.category_labels.get(ticket.category, "问题")
    place = f" {ticket.location}" if ticket.location else ""
    step = STATUS_LABELS.get(ticket.status, ticket.status)
    holder = await ctx.session.get(Worker, ticket.assignee_id) if ticket.assignee_id else None
    if holder is not None and ticket.status in HOLDER_STEPS:
        who = f"网格员{holder.name}" if holder.role == "grid_worker" else f"工作人员{holder.name}"
        step = HOLDER_STEPS[ticket.status].format(who=who)
    if ticket.status == "resolved" and ticket.rating is None:
        step += "（请回复 1–5 为服务打分）"
    return f"工单 {ticket.number}【{label}】{place}：{step}"


async def _own_tickets(ctx: Context) -> list[Ticket]:
    """Open tickets the resident reported or follows as a linked reporter."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.resident_id == ctx.resident.id)
    stmt = (
        select(Ticket)
        .where(
            (Ticket.reporter_id == ctx.resident.id) | Ticket.id.in_(followed),
            Ticket.status.in_((*OPEN_STATUSES, "resolved")),
        )
        .order_by(Ticket.id.desc())
        .limit(5)
    )
    return list((await ctx.session.scalars(stmt)).all())


def _pairs(text: str) -> set[str]:
    """The two-character pieces of a text (how a description is matched to a ticket)."""
    bare = "".join(ch for ch in text if ch.isalnum())
    return {bare[i : i + 2] for i in range(len(bare) - 1)}


_WHEN_WORDS = {
    "上午": (0, 12),
    "早上": (0, 10),
    "中午": (11, 14),
    "下午": (12, 18),
    "晚上": (18, 24),
}


def described_ticket(ctx: Context, tickets: list[Ticket]) -> Ticket | None:
    """The one ticket a status question describes ("楼道灯那个事", "我上午说的那个"), if any."""
    if len(tickets) < 2:
        return None
    asked = _pairs(ctx.text)
    scores: dict[int, int] = {}
    for ticket in tickets:
        label = ctx.services.category_labels.get(ticket.category, "")
        said = f"{label}{ticket.location or ''}{ticket.description or ''}"
        scores[ticket.id] = len(asked & _pairs(said))
        for word, (start, end) in _WHEN_WORDS.items():
            created = ticket.created_at
            made = (created if created.tzinfo else created.replace(tzinfo=UTC)).astimezone(SHANGHAI)
            if word in ctx.text and start <= made.hour < end:
                scores[ticket.id] += 2
    best = max(scores.values())
    winners = [t for t in tickets if scores[t.id] == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def _is_own(ctx: Context, ticket: Ticket, followers: list[int]) -> bool:
    return ticket.reporter_id == ctx.resident.id or ctx.resident.id in followers


async def _other_number(ctx: Context, number: str) -> None:
    """A booking, home-care order or wish number the resident quoted."""
    lookup = number_lookups().get(number[0])
    line = await lookup(ctx.session, ctx.resident.id, number) if lookup else None
    if line is None:
        ctx.reply(f"没有找到您名下的 {number}，请核对号码，或发送“查询”看全部进度。")
    else:
        ctx.reply(line)


@intent("check_status")
async def check_status(ctx: Context) -> None:
    """Answer with one ticket when a number is given, else the resident's open tickets."""
    ctx.action = "status"
    quoted = ctx.entity("ticket_id")
    match = _NUMBER.search(ctx.text)
    if quoted and (match is None or quoted not in match.group(0)):
        match = _NUMBER.search(quoted)  # NLU saw the number: prefer it to other digits
    if match and match.group(1):
        await _other_number(ctx, match.group(1).upper() + match.group(2))
        return
    if match:
        ticket = await ticket_by_number(ctx.session, match.group(2))
        followers = (
            list(
                (
                    await ctx.session.scalars(
                        select(TicketFollower.resident_id).where(
                            TicketFollower.ticket_id == ticket.id
                        )
                    )
                ).all()
            )
            if ticket
            else []
        )
        if ticket is None or not _is_own(ctx, ticket, followers):
            ctx.reply(
                f"没有找到您名下的工单 {match.group(2)}，请核对号码，或发送“查询”看全部进度。"
            )
            return
        ctx.reply(await _line(ctx, ticket))
        return
    own = await _own_tickets(ctx)
    described = described_ticket(ctx, own)
    if described is not None:
        ctx.action = f"status:{described.number}"
        ctx.reply(await _line(ctx, described))
        return
    lines = [await _line(ctx, t) for t in own]
    for source in status_sources():
        lines.extend(await source(ctx.session, ctx.resident.id))
    if not lines:
        ctx.reply("您目前没有正在办理的事项。有问题可以直接告诉我。")
        return
    ctx.reply("您正在办理的事项：\n" + "\n".join(lines))
