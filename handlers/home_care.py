"""Home-care requests (request_home_care): which elder, which service, when, confirm, order.

An elder on the roster with hours left gets an order that contracted providers claim
(handlers/care_orders.py). Not on the roster, not eligible, or no hours left: a kind
answer with the policy and a ticket for staff to assess (category home_care).
"""

from __future__ import annotations

import re
from datetime import datetime

from handlers.care_items import COMMON, CareItem, hours_text, item_by_label, match_item
from handlers.context import Context
from handlers.dialogue import ask_again, choice_number
from handlers.disability import file_service_ticket
from handlers.registry import intent
from nlu.timeparse import SHANGHAI, resolve_time
from storage.base import existing
from storage.home_care import CareElder, active_providers, elders_of, month_of, remaining_minutes
from storage.home_care_orders import QuotaExceeded, request_order
from storage.privacy import mask_name
from storage.push import push

POLICY = (
    "政府购买居家养老服务面向特困人员、低保对象和优抚对象中的失能、半失能、空巢、独居老人，"
    "按甲、乙、丙三级每月分别服务 30、20、10 小时，费用由政府按每小时 17 元支付，老人不用花钱。"
)
RELATIONS = {
    "母亲": ("妈", "母亲", "娘"),
    "父亲": ("爸", "父亲", "爹", "老爷子"),
    "本人": ("自己", "本人"),
    "配偶": ("老伴", "老公", "媳妇", "爱人"),
    "祖母": ("奶奶", "姥姥", "外婆", "老太太"),
    "祖父": ("爷爷", "姥爷", "外公"),
}
ASK_TIME = "希望什么时间上门？比如：明天上午、周五下午三点。"
_AREA = re.compile(r"^\D+")  # the street or compound of an address, without numbers


def _relation(value: str | None) -> str | None:
    if not value:
        return None
    return next((k for k, words in RELATIONS.items() if any(w in value for w in words)), None)


def _when(ctx: Context) -> str:
    start = datetime.fromisoformat(ctx.state["start"]).astimezone(SHANGHAI)
    return f"{start.month}月{start.day}日（{ctx.state['time_text']}）"


@intent("request_home_care")
async def request_home_care(ctx: Context) -> None:
    """Start a home-care request from whatever the first message already says."""
    ctx.state.clear()
    ctx.state.update(flow="home_care", note=ctx.text[:200], retries=0)
    item = match_item(ctx.entity("service_item"))
    if item:
        ctx.state["item"] = item.label
    _take_time(ctx, ctx.entity("time"))
    links = await elders_of(ctx.session, ctx.resident)
    if not links:
        await _refer_to_staff(ctx, None, "not_registered")
        return
    wanted = _relation(ctx.entity("relation"))
    chosen = [e for e, rel in links if rel == wanted] if wanted else []
    if wanted and not chosen:  # asking for someone who is not on file with this account
        await _refer_to_staff(ctx, None, "not_registered")
        return
    if len(links) == 1 or len(chosen) == 1:
        await _choose_elder(ctx, (chosen or [links[0][0]])[0])
        return
    ctx.state.update(step="elder", elders=[[e.id, rel] for e, rel in links])
    ctx.action = "home_care_ask_elder"
    lines = [f"回复 {i} {e.name}（{rel}）" for i, (e, rel) in enumerate(links, 1)]
    ctx.reply("请问是为哪位老人申请？\n" + "\n".join(lines))


def _take_time(ctx: Context, text: str | None) -> bool:
    span = resolve_time(text, ctx.now) if text else None
    if span is None or span.end <= ctx.now:
        return False
    ctx.state.update(start=max(span.start, ctx.now).isoformat(), time_text=text)
    return True


async def _choose_elder(ctx: Context, elder: CareElder) -> None:
    if not elder.eligible:
        await _refer_to_staff(ctx, elder, "not_eligible")
        return
    ctx.state["elder"] = elder.id
    await _ask_next(ctx)


async def _ask_next(ctx: Context) -> None:
    """Ask for the first thing still missing, or for confirmation."""
    ctx.state["retries"] = 0
    if "item" not in ctx.state:
        ctx.state["step"] = "item"
        ctx.action = "home_care_ask_item"
        lines = [f"回复 {i} {item.label}" for i, item in enumerate(COMMON, 1)]
        ctx.reply("需要哪项上门服务？\n" + "\n".join(lines) + "\n其他服务请直接说，比如：洗衣服。")
    elif "start" not in ctx.state:
        ctx.state["step"] = "time"
        ctx.action = "home_care_ask_time"
        ctx.reply(ASK_TIME)
    else:
        await _confirm(ctx)


async def _chosen(ctx: Context) -> tuple[CareElder, CareItem]:
    """The elder and the service this request has settled on (kept in the dialogue state)."""
    elder = await existing(ctx.session, CareElder, ctx.state["elder"])
    item = item_by_label(ctx.state["item"])
    if item is None:
        raise KeyError(f"no home-care service {ctx.state['item']!r} (from the dialogue state)")
    return elder, item


async def _confirm(ctx: Context) -> None:
    elder, item = await _chosen(ctx)
    start = datetime.fromisoformat(ctx.state["start"])
    left = await remaining_minutes(ctx.session, elder, month_of(start))
    if left < item.minutes:
        await _quota_exhausted(ctx, elder, item, left)
        return
    ctx.state["step"] = "confirm"
    ctx.action = "home_care_confirm"
    ctx.reply(
        f"为{elder.name}申请上门【{item.label}】，约 {hours_text(item.minutes)}，"
        f"时间：{_when(ctx)}。{start.astimezone(SHANGHAI).month}月还剩 {hours_text(left)}。\n"
        "回复 1 确认申请，回复 2 改时间，回复“取消”不申请。"
    )


@intent("flow:home_care")
async def continue_home_care(ctx: Context) -> bool:
    """Take the answer to the bot's last question in a home-care request."""
    step, choice = ctx.state.get("step"), choice_number(ctx.text)
    picked = _picked_elder(ctx, choice) if step == "elder" else None
    if picked is not None:
        elder = await existing(ctx.session, CareElder, picked)
        await _choose_elder(ctx, elder)
    elif step == "item" and (choice or match_item(ctx.entity("service_item") or ctx.text)):
        item = COMMON[choice - 1] if choice and choice <= len(COMMON) else None
        item = item or match_item(ctx.entity("service_item") or ctx.text)
        if item is None:
            return await _retry(ctx, "请回复服务前面的数字，或直接说服务名称。")
        ctx.state["item"] = item.label
        await _ask_next(ctx)
    elif step == "time" and choice is None:
        if not _take_time(ctx, ctx.entity("time") or ctx.text.strip()):
            return await _retry(ctx, "没听明白时间，" + ASK_TIME)
        await _ask_next(ctx)
    elif step == "confirm" and (choice == 1 or (choice is None and ctx.intent == "affirm")):
        await _place_order(ctx)
    elif step == "confirm" and choice == 2:
        ctx.state.pop("start", None)
        await _ask_next(ctx)
    elif step == "confirm" and choice is None and ctx.intent == "deny":
        ctx.state.clear()
        ctx.action = "home_care_declined"
        ctx.reply("好的，这次先不申请了。需要时随时告诉我。")
    elif choice is None and ctx.intent not in (None, "affirm", "deny", "request_home_care"):
        return False  # the resident moved on to something else
    else:
        return await _retry(ctx, "请按提示回复数字，或回复“取消”。")
    return True


def _picked_elder(ctx: Context, choice: int | None) -> int | None:
    """The elder id a numbered choice or a relation (我妈) picks from the offered list."""
    offered = [(int(elder_id), str(rel)) for elder_id, rel in ctx.state.get("elders", [])]
    if choice is not None:
        return offered[choice - 1][0] if 1 <= choice <= len(offered) else None
    wanted = _relation(ctx.entity("relation") or ctx.text)
    matches = [elder_id for elder_id, rel in offered if wanted and rel == wanted]
    return matches[0] if len(matches) == 1 else None


async def _retry(ctx: Context, prompt: str) -> bool:
    gave_up = "没能确认信息，这次先不申请了。您可以重新说一遍，或回复“转人工”。"
    ask_again(ctx, prompt, action="home_care_abandoned", gave_up=gave_up)
    return True


async def _place_order(ctx: Context) -> None:
    elder, item = await _chosen(ctx)
    start = datetime.fromisoformat(ctx.state["start"])
    try:
        order = await request_order(
            ctx.session,
            elder=elder,
            requester=ctx.resident,
            service_item=item.label,
            scheduled_at=start,
            expected_minutes=item.minutes,
            actor=f"resident:{ctx.resident.id}",
            note=ctx.state.get("note"),
            conversation_id=ctx.conversation.id,
            source_message_id=ctx.message_id,
        )
    except QuotaExceeded as exc:
        await _quota_exhausted(ctx, elder, item, exc.remaining_minutes)
        return
    when = _when(ctx)
    area = _AREA.match(elder.address or "")
    card = (
        f"【居家养老新订单】{order.number}【{item.label}】约 {hours_text(item.minutes)}\n"
        f"时间：{when}\n老人：{mask_name(elder.name)}，{area.group() if area else '本社区'}"
        f"（接单后可见详细地址）\n回复“抢单 {order.number}”接单，先到先得。"
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
    ctx.state.clear()
    ctx.action = f"care_order_created:{order.number}"
    ctx.reply(
        f"已为{elder.name}申请上门【{item.label}】，订单号 {order.number}，时间：{when}。"
        "服务机构接单后会告诉您，服务全程免费。想了解进度，发送“查询”即可；"
        f"如需取消，发送“取消订单 {order.number}”。"
    )


async def _quota_exhausted(ctx: Context, elder: CareElder, item: CareItem, left: int) -> None:
    month = datetime.fromisoformat(ctx.state["start"]).astimezone(SHANGHAI).month
    filed = await file_service_ticket(
        ctx,
        "home_care",
        f"居家养老额度不足：{elder.name}{item.label}，{month}月剩{left}分钟",
        {
            "reason": "quota_exhausted",
            "elder_id": elder.id,
            "service_item": item.label,
            "remaining_minutes": left,
            "request": ctx.state.get("note"),
        },
    )
    ctx.state.clear()
    ctx.action = f"home_care_quota:{filed.ticket.number}"
    ctx.reply(
        f"{elder.name}{month}月的上门服务时长只剩 {hours_text(left)}，这次【{item.label}】约需 "
        f"{hours_text(item.minutes)}，超出了当月额度"
        f"（{elder.grade}级每月 {elder.monthly_hours} 小时），"
        f"下个月 1 日会恢复。已请社区工作人员联系您商量办法（工单号 {filed.ticket.number}）。"
    )


async def _refer_to_staff(ctx: Context, elder: CareElder | None, reason: str) -> None:
    who = elder.name if elder else "老人"
    filed = await file_service_ticket(
        ctx,
        "home_care",
        f"居家养老服务评估：{who}（{'未登记' if elder is None else '待评估'}）",
        {
            "reason": reason,
            "elder_id": elder.id if elder else None,
            "service_item": ctx.state.get("item"),
            "relation": ctx.entity("relation"),
            "request": ctx.state.get("note"),
        },
    )
    ctx.state.clear()
    ctx.action = f"home_care_assess:{filed.ticket.number}"
    status = "还没有登记在居家养老服务名单里" if elder is None else "目前还不在服务名单的条件内"
    ctx.reply(
        f"{who}{status}。{POLICY}\n已请社区工作人员联系您做评估（工单号 {filed.ticket.number}），"
        "也可以带老人的身份证、户口本到社区党群服务中心申请。"
    )
