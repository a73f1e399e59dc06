"""The order just made (rule 6): what the resident says next about it reaches the visit.

After an order (J…) the next messages — a detail for the helper ("他家在五楼 没电梯"),
"大概几点能到", "不用了" — belong to that order: a detail is kept on the order's history
and passed to the provider once one has claimed it, a question about the time is answered
from the order's state, a withdrawal cancels it. A message naming a service or another
elder is a new request and is left to the router.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.engine.answers import AnswerKind, is_thanks_only, is_withdrawal, read_answer
from handlers.engine.details import asks_when
from handlers.engine.state import Dialogue
from handlers.home_care import elders
from handlers.home_care.commands import cancel_for_resident, is_theirs, tell_provider
from handlers.home_care.items import match_item
from handlers.registry import intent
from nlu.timeparse import SHANGHAI
from storage.home_care import (
    OPEN_STATUSES,
    CareElder,
    CareOrder,
    CareProvider,
    elders_of,
    order_by_number,
)
from storage.home_care_orders import record
from storage.privacy import mask_text

SURE = 0.7  # a message this sure of another intent is something else, not about the order
ABOUT_IT = frozenset({"affirm", "deny", "out_of_scope", "greet", "nlu_fallback"})
NOTE_KIND = "resident_note"


async def _current_order(ctx: Context) -> CareOrder | None:
    item = Dialogue.load(ctx.state).item
    if item is None or item.kind != "order":
        return None
    order = await order_by_number(ctx.session, item.number)
    if order is None or order.status not in OPEN_STATUSES:
        return None
    return order if await is_theirs(ctx.session, ctx.resident, order) else None


async def _names_another(ctx: Context, order: CareOrder) -> bool:
    """True when the message asks for a service, or names an elder other than the order's."""
    if match_item(elders.affirmed(ctx.text)) is not None:
        return True
    links = await elders_of(ctx.session, ctx.resident)
    roster = [elders.Roster(e.id, e.name, rel, e.eligible) for e, rel in links]
    named = elders.whom(ctx.text, roster)
    return named is not None and named != f"{elders.ON_ROSTER}{order.elder_id}"


async def _when_line(session: AsyncSession, order: CareOrder) -> str:
    provider = await session.get(CareProvider, order.provider_id) if order.provider_id else None
    start = order.scheduled_at.astimezone(SHANGHAI)
    day = f"{start.month}月{start.day}日"
    if order.status == "requested" or provider is None:
        return (
            f"订单 {order.number}【{order.service_item}】正在等服务机构接单（约定{day}）。\n"
            "接单后会告诉您，并和您确认具体上门时间。"
        )
    if order.status == "visiting":
        return f"{provider.name}的服务人员正在上门服务（订单 {order.number}）。"
    contact = f"，着急可以打 {provider.contact}" if provider.contact else ""
    return f"{provider.name}已接单，会按约定{day}上门（订单 {order.number}）{contact}。"


@intent("item:order")
async def take_order_follow_up(ctx: Context) -> bool:
    """Answer a message about the order just made; False when it is something else."""
    if ctx.conversation.is_group or ctx.worker is not None:
        return False
    order = await _current_order(ctx)
    text = ctx.text.strip()
    if order is None or is_thanks_only(text):
        return False
    if asks_when(text) or (ctx.intent == "check_status" and not any(c.isdigit() for c in text)):
        ctx.action = f"order_status:{order.number}"
        ctx.reply(await _when_line(ctx.session, order))
        return True
    if is_withdrawal(text):
        ctx.action = f"order_withdrawn:{order.number}"
        await cancel_for_resident(ctx, order)
        return True
    sure = ctx.parse is not None and ctx.parse.confidence >= SURE
    if (sure and ctx.intent not in ABOUT_IT) or await _names_another(ctx, order):
        return False
    answer = read_answer(text, ctx.intent, ctx.parse.confidence if ctx.parse else 0.0)
    if answer.kind is AnswerKind.YES and (not answer.rest or is_thanks_only(answer.rest)):
        ctx.action = f"order_ack:{order.number}"
        ctx.reply(f"好的。订单 {order.number} 有进展会告诉您。")
        return True
    await record(ctx.session, order, NOTE_KIND, f"resident:{ctx.resident.id}", note=text[:1000])
    elder = await ctx.session.get(CareElder, order.elder_id)
    told = await tell_provider(
        ctx.session,
        order,
        f"订单 {order.number}【{order.service_item}】申请人补充：{mask_text(text)[:200]}",
        "care_note_pushed",
    )
    ctx.action = f"order_note:{order.number}"
    who = "已转告上门的服务人员" if told else "接单的服务机构会看到"
    ctx.reply(f"收到，已记在{elder.name if elder else ''}的订单 {order.number} 上，{who}。")
    return True
