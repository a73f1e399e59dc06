"""Home-care orders after the request: providers claim, visit and complete; staff call back.

Provider dispatchers type 抢单 J1001 (first to claim wins), 上门 J1001, and
完工 J1001 2小时 已做饭 [photo links]; staff type 回访 J1001 满意 老人说饭菜可口.
The requester hears of each step. Numbers without the J prefix are not these commands.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.home_care.items import hours_text
from handlers.registry import intent
from storage.accounts import audit
from storage.base import existing
from storage.community import workers_with_role
from storage.home_care import (
    CareElder,
    CareOrder,
    CareProvider,
    elders_of,
    order_by_number,
    orders_for_resident,
    provider_by_identity,
    remaining_minutes,
)
from storage.home_care_orders import (
    QuotaExceeded,
    cancel_order,
    complete_order,
    move,
    review_order,
)
from storage.push import push, push_to_resident, push_to_worker
from storage.residents import Resident

_HOURS = re.compile(r"(?<![\d.])(\d{1,4}(?:\.\d{1,2})?)\s{0,2}(?:个)?(小时|钟头|h|分钟)", re.I)
_URL = re.compile(r"https?://\S+")
CALLBACK_RESULTS = ("不满意", "基本满意", "满意")
STEP_LABELS = {
    "requested": "已提交，等待服务机构接单",
    "claimed": "{p}已接单，等待上门",
    "visiting": "{p}正在上门服务",
    "completed": "服务已完成，等待社区回访",
    "reviewed": "服务已完成，社区已回访",
    "cancelled": "已取消",
}


async def _provider_order(ctx: Context) -> tuple[CareProvider, CareOrder | None] | None:
    """The sending provider and the J-numbered order it names; None when not for us."""
    command = ctx.command
    if command is None or not (command.number or "").startswith("J"):
        return None
    provider = await provider_by_identity(
        ctx.session, ctx.conversation.platform, ctx.conversation.user_id
    )
    if provider is None:
        return None
    return provider, await order_by_number(ctx.session, command.number or "")


async def _tell_requester(session: AsyncSession, order: CareOrder, text: str, action: str) -> None:
    requester = await session.get(Resident, order.requester_id)
    if requester is not None:
        await push_to_resident(session, requester, text, action)


@intent("cmd:抢单")
async def claim(ctx: Context) -> bool:
    """A provider claims a new order; the first claim wins, the others are told it is taken."""
    found = await _provider_order(ctx)
    if found is None:
        return False
    provider, order = found
    ctx.action = "care_claim"
    if order is None:
        ctx.reply(f"没有找到订单 {ctx.command.number if ctx.command else ''}，请核对单号。")
    elif not await move(
        ctx.session,
        order,
        from_statuses=("requested",),
        to_status="claimed",
        actor=f"provider:{provider.id}",
        now=ctx.now,
        provider_id=provider.id,
    ):
        ctx.reply(f"订单 {order.number} 已被其他机构接单或已结束，谢谢。")
    else:
        elder = await existing(ctx.session, CareElder, order.elder_id)
        who, target = f"provider:{provider.id}", f"order:{order.number}"
        audit(ctx.session, who, "view_personal", target, "elder contact on the claimed-order card")
        ctx.reply(
            f"抢单成功：{order.number}【{order.service_item}】\n"
            f"老人：{elder.name}，电话 {elder.phone or '未留'}\n"
            f"地址：{elder.address or '未登记'}\n到达后回复“上门 {order.number}”，服务完回复"
            f"“完工 {order.number} 实际小时数 服务内容”，可附照片链接。"
        )
        told = (
            f"您申请的【{order.service_item}】（{order.number}）已由{provider.name}接单，"
            "会按约定时间上门。"
        )
        await _tell_requester(ctx.session, order, told, "care_claimed")
    return True


@intent("cmd:上门")
async def arrive(ctx: Context) -> bool:
    """The claiming provider has arrived at the elder's home."""
    found = await _provider_order(ctx)
    if found is None:
        return False
    provider, order = found
    ctx.action = "care_visit"
    if order is None or not await move(
        ctx.session,
        order,
        from_statuses=("claimed",),
        to_status="visiting",
        actor=f"provider:{provider.id}",
        now=ctx.now,
        provider_id=provider.id,
    ):
        ctx.reply(_refusal(ctx, order, provider))
        return True
    ctx.reply(f"已记录上门：{order.number}。服务完回复“完工 {order.number} 实际小时数 服务内容”。")
    await _tell_requester(
        ctx.session,
        order,
        f"服务人员已上门，正在提供【{order.service_item}】（{order.number}）。",
        "care_visiting",
    )
    return True


def _refusal(ctx: Context, order: CareOrder | None, provider: CareProvider) -> str:
    number = ctx.command.number if ctx.command else ""
    if order is None:
        return f"没有找到订单 {number}，请核对单号。"
    if order.provider_id != provider.id:
        return f"订单 {number} 不是贵机构接的单，不能操作。"
    step = STEP_LABELS.get(order.status, order.status).format(p=provider.name)
    return f"订单 {number} 当前不能这样操作（{step}）。"


@intent("cmd:完工")
async def finish(ctx: Context) -> bool:
    """The provider reports the visit done: real hours (within the quota), note and photos."""
    found = await _provider_order(ctx)
    if found is None:
        return False
    provider, order = found
    ctx.action = "care_complete"
    rest = ctx.command.rest if ctx.command else ""
    hours = _HOURS.search(rest)
    if order is None or order.provider_id != provider.id or order.status != "visiting":
        ctx.reply(_refusal(ctx, order, provider))
        return True
    if hours is None:
        ctx.reply(f"请写明实际服务时长，比如：完工 {order.number} 2小时 已做饭。")
        return True
    value = float(hours.group(1))
    minutes = round(value if hours.group(2) == "分钟" else value * 60)
    note = _URL.sub("", rest.replace(hours.group(0), "", 1)).strip() or order.service_item
    if not 0 < minutes <= 8 * 60:
        ctx.reply("服务时长要在 8 小时以内，请核对后再发。")
        return True
    try:
        await complete_order(
            ctx.session,
            order,
            provider,
            minutes=minutes,
            note=note,
            photo_urls=_URL.findall(rest),
            now=ctx.now,
        )
    except QuotaExceeded as exc:
        most = order.expected_minutes + exc.remaining_minutes
        ctx.reply(f"老人当月额度不够，这一单最多只能记 {hours_text(most)}，请核对后再发。")
        return True
    elder = await existing(ctx.session, CareElder, order.elder_id)
    left = await remaining_minutes(ctx.session, elder, order.quota_month)
    ctx.reply(f"已记录完工：{order.number}，服务 {hours_text(minutes)}。社区会审核照片并电话回访。")
    told = (
        f"【{order.service_item}】服务已完成（{order.number}），服务 {hours_text(minutes)}，"
        f"{int(order.quota_month[5:])}月还剩 {hours_text(left)}。社区会电话回访服务情况。"
    )
    await _tell_requester(ctx.session, order, told, "care_completed")
    review = (
        f"居家养老 {order.number}【{order.service_item}】已完工（{provider.name}，"
        f"{hours_text(minutes)}），请审核照片并电话回访老人{elder.name}"
        f"（{elder.phone or '未留电话'}）："
        f"回复“回访 {order.number} 满意/不满意 备注”。"
    )
    for staff in await workers_with_role(ctx.session, "staff"):
        await push_to_worker(ctx.session, staff, review, "care_review_needed")
        target = f"order:{order.number}"
        audit(ctx.session, f"worker:{staff.id}", "view_personal", target, "elder phone, call-back")
    return True


@intent("cmd:回访")
async def call_back(ctx: Context) -> bool:
    """Staff record the photo review and phone call-back of a completed order."""
    command, worker = ctx.command, ctx.worker
    if command is None or not (command.number or "").startswith("J"):
        return False
    if worker is None or worker.role not in ("staff", "leader"):
        return False
    ctx.action = "care_review"
    order = await order_by_number(ctx.session, command.number or "")
    result = next((r for r in CALLBACK_RESULTS if command.rest.startswith(r)), None)
    note = command.rest.removeprefix(result or "").strip(" ，,")
    if order is None or result is None:
        ctx.reply(f"请这样回复：回访 {command.number} 满意（或不满意）备注。")
    elif not await review_order(
        ctx.session, order, f"worker:{worker.id}", ctx.now, result=result, note=note
    ):
        ctx.reply(f"订单 {order.number} 还没有完工或已经回访过了。")
    else:
        ctx.reply(f"已记录回访：{order.number} {result}。")
    return True


@intent("cmd:取消订单")
async def cancel(ctx: Context) -> bool:
    """The requester (or a relative linked to the elder) cancels an order not yet visited."""
    command = ctx.command
    if command is None or not (command.number or "").startswith("J"):
        return False
    ctx.action = "care_cancel"
    order = await order_by_number(ctx.session, command.number or "")
    if order is None or not await is_theirs(ctx.session, ctx.resident, order):
        ctx.reply(f"没有找到您名下的订单 {command.number}，请核对单号。")
        return True
    await cancel_for_resident(ctx, order)
    return True


async def cancel_for_resident(ctx: Context, order: CareOrder) -> bool:
    """Cancel an order for its requester and tell the provider; False when it is too late."""
    actor = f"resident:{ctx.resident.id}"
    if not await cancel_order(ctx.session, order, actor, ctx.now):
        ctx.reply(f"订单 {order.number} 已经上门或已结束，不能取消了。有问题请回复“转人工”。")
        return False
    ctx.reply(f"已取消订单 {order.number}，预留的服务时长已退回当月额度。")
    await tell_provider(
        ctx.session,
        order,
        f"订单 {order.number}【{order.service_item}】已由申请人取消，不用上门了。",
        "care_cancelled",
    )
    return True


async def tell_provider(session: AsyncSession, order: CareOrder, text: str, action: str) -> bool:
    """Push a message to the provider holding an order; False when no one holds it."""
    provider = await session.get(CareProvider, order.provider_id) if order.provider_id else None
    if provider is None or not (provider.platform and provider.platform_user_id):
        return False
    await push(
        session,
        platform=provider.platform,
        user_id=provider.platform_user_id,
        text=text,
        action=action,
    )
    return True


async def is_theirs(session: AsyncSession, resident: Resident, order: CareOrder) -> bool:
    """True when the resident placed the order or may request for its elder."""
    if order.requester_id == resident.id:
        return True
    return order.elder_id in {elder.id for elder, _ in await elders_of(session, resident)}


async def _line(session: AsyncSession, order: CareOrder) -> str:
    """One order: number, service, elder, the current step and who holds it."""
    provider = await session.get(CareProvider, order.provider_id) if order.provider_id else None
    elder = await session.get(CareElder, order.elder_id)
    step = STEP_LABELS.get(order.status, order.status).format(p=provider.name if provider else "")
    return f"居家养老 {order.number}【{order.service_item}】{elder.name if elder else ''}：{step}"


async def status_lines(session: AsyncSession, resident_id: int) -> list[str]:
    """The resident's unfinished home-care orders (also those for elders they are linked to)."""
    resident = await session.get(Resident, resident_id)
    if resident is None:
        return []
    return [await _line(session, order) for order in await orders_for_resident(session, resident)]


async def order_status_line(session: AsyncSession, resident_id: int, number: str) -> str | None:
    """One order by its number (查询 J1001), or None when it is not this resident's to see."""
    resident = await session.get(Resident, resident_id)
    order = await order_by_number(session, number)
    if resident is None or order is None:
        return None
    return await _line(session, order) if await is_theirs(session, resident, order) else None
