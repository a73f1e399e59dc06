"""The endings of a home-care request: the order, the referral when hours run out, the assessment.

An order books its expected hours against the elder's monthly quota and is pushed to every
contracted provider (the elder's name masked and no address until one claims it). When the
month's hours are used up, or the elder is not on the roster (or not eligible), staff get a
ticket (category home_care) with everything the resident said.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.engine.answers import AnswerKind, read_answer
from handlers.engine.turn import Turn
from handlers.home_care import elders, when
from handlers.home_care.items import CareItem, hours_text, item_by_label
from handlers.ticket_notices import announce
from nlu.timeparse import SHANGHAI
from storage.base import existing
from storage.home_care import CareElder, active_providers, month_of, remaining_minutes
from storage.home_care_orders import QuotaExceeded, request_order
from storage.privacy import mask_name
from storage.push import push
from storage.ticket_flow import Filed, open_ticket

CATEGORY = "home_care"
MAX_DESCRIPTION = 1000


def said_words(turn: Turn) -> str:
    """What the resident said in this request: every message but bare yes/no answers."""
    kept = []
    for text in turn.flow.said:
        answer = read_answer(text)
        if answer.kind in (AnswerKind.YES, AnswerKind.NO) and not answer.rest:
            continue
        kept.append(text)
    return " ".join(kept)


async def quota_left(turn: Turn, elder_id: int, start: datetime) -> int:
    """Minutes of the elder's quota still free in the month of the visit."""
    elder = await existing(turn.ctx.session, CareElder, elder_id)
    return await remaining_minutes(turn.ctx.session, elder, month_of(start))


async def _ticket(
    turn: Turn, description: str, details: dict[str, Any], location: str | None
) -> Filed:
    ctx = turn.ctx
    filed = await open_ticket(
        ctx.session,
        ctx.services,
        category=CATEGORY,
        description=description[:MAX_DESCRIPTION],
        reporter=ctx.resident,
        now=ctx.now,
        actor=f"resident:{ctx.resident.id}",
        location=location,
        conversation_id=ctx.conversation.id,
        source_message_id=ctx.message_id,
        details=details,
    )
    if not filed.merged:
        await announce(ctx.session, ctx.services, filed, ctx.resident)
    turn.remember("ticket", str(filed.ticket.number))
    return filed


async def refer_quota(turn: Turn, elder_id: int, item: CareItem, start: datetime, left: int) -> str:
    """Hours used up this month: ask staff to call back (a ticket), end the request, say so."""
    elder = await existing(turn.ctx.session, CareElder, elder_id)
    month = start.astimezone(SHANGHAI).month
    filed = await _ticket(
        turn,
        f"居家养老额度不足：{elder.name}{item.label}，{month}月剩{left}分钟。{said_words(turn)}",
        {
            "reason": "quota_exhausted",
            "elder_id": elder.id,
            "service_item": item.label,
            "remaining_minutes": left,
            "request": said_words(turn)[:500],
        },
        elder.address,
    )
    turn.dialogue.flow = None
    turn.ctx.action = f"home_care_quota:{filed.ticket.number}"
    return (
        f"{elder.name}{month}月的上门服务时长只剩 {hours_text(left)}，这次【{item.label}】"
        f"约需 {hours_text(item.minutes)}，超出了当月额度。\n"
        f"{elder.grade}级每月 {elder.monthly_hours} 小时，下个月 1 日恢复。"
        f"已请社区工作人员联系您商量办法（工单号 {filed.ticket.number}）。"
    )


async def place_order(turn: Turn) -> None:
    """Create the order (J…), push it to the providers and tell the resident."""
    ctx, flow = turn.ctx, turn.flow
    roster = elders.on_roster(flow)
    item = item_by_label(flow.text("item"))
    if roster is None or item is None:
        raise KeyError("a home-care order needs an elder on the roster and a service")
    elder = await existing(ctx.session, CareElder, roster.elder_id)
    start = when.start_of(flow.get("time"), ctx.now)
    try:
        order = await request_order(
            ctx.session,
            elder=elder,
            requester=ctx.resident,
            service_item=item.label,
            scheduled_at=start,
            expected_minutes=item.minutes,
            actor=f"resident:{ctx.resident.id}",
            note=said_words(turn)[:500] or None,
            conversation_id=ctx.conversation.id,
            source_message_id=ctx.message_id,
        )
    except QuotaExceeded as exc:
        ctx.reply(await refer_quota(turn, elder.id, item, start, exc.remaining_minutes))
        return
    number = order.number or ""
    time_said = when.shown(flow.get("time"), ctx.now)
    card = (
        f"【居家养老新订单】{number}【{item.label}】约 {hours_text(item.minutes)}\n"
        f"时间：{time_said}\n老人：{mask_name(elder.name)}，{_street(elder.address) or '本社区'}"
        f"（接单后可见详细地址）\n回复“抢单 {number}”接单，先到先得。"
    )
    for provider in await active_providers(ctx.session):
        if provider.platform and provider.platform_user_id:
            await push(
                ctx.session,
                platform=provider.platform,
                user_id=provider.platform_user_id,
                text=card,
                action="care_order_pushed",
            )
    turn.remember("order", number)
    ctx.action = f"care_order_created:{number}"
    ctx.reply(
        f"已为{elder.name}申请上门【{item.label}】，订单号 {number}，时间：{time_said}。\n"
        "服务机构接单后会告诉您，服务全程免费。想取消就说“取消订单 "
        f"{number}”，有话要带给师傅直接告诉我。"
    )


def _street(address: str | None) -> str:
    """The street or compound of an address, without numbers (东关中巷3号楼 → 东关中巷)."""
    text = address or ""
    for at, char in enumerate(text):
        if char.isdigit():
            return text[:at]
    return text


async def file_assessment(turn: Turn, facts: str) -> None:
    """File the assessment for staff (new elder, or on file but not eligible) and say what next."""
    ctx, flow = turn.ctx, turn.flow
    roster = elders.on_roster(flow)
    elder = await existing(ctx.session, CareElder, roster.elder_id) if roster else None
    who = elder.name if elder else elders.shown(flow)
    status = "在名单但不符合条件" if elder else "未在服务名单"
    location = flow.text("location") or (elder.address if elder else None) or None
    said = said_words(turn)
    filed = await _ticket(
        turn,
        f"居家养老服务评估：{who}（{status}）{facts}。居民原话：{said}",
        {
            "reason": "not_eligible" if elder else "not_registered",
            "elder_id": elder.id if elder else None,
            "who": elders.new_elder(flow),
            "age": flow.get("age"),
            "living": flow.get("living"),
            "service_item": flow.get("item"),
            "phone": flow.get("phone"),
            "request": said[:500],
        },
        location,
    )
    number = filed.ticket.number
    ctx.action = f"home_care_assess:{number}"
    rule = ctx.services.categories.get(CATEGORY)
    days = f"{rule.resolve_within()}内" if rule else "尽快"
    ctx.reply(
        f"已为{who}登记居家养老服务评估，工单号 {number}。\n"
        f"社区工作人员会在{days}联系您，上门了解老人情况；符合条件的列入服务名单，上门服务免费。"
    )
