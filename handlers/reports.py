"""Problem reports: ask for the place if missing, confirm, file a ticket, give its number."""

from __future__ import annotations

from handlers.context import Context
from handlers.dialogue import LEAVE_CONFIDENCE, ask_again, choice_number
from handlers.registry import intent
from handlers.ticket_notices import announce
from storage.ticket_flow import open_ticket

GAS_ADVICE = (
    "【燃气安全提醒】请立即开窗通风，不要开关电灯电器、不要用明火、不要在室内打电话，"
    "尽快离开到室外安全处，并拨打燃气抢修电话。"
)
ASK_LOCATION = "请问具体在什么位置？比如：东关中巷3号楼门口。"
LEAVE_INTENTS = frozenset({"check_status", "human_handoff", "greet", "thank", "out_of_scope"})

REPORT_INTENTS = (
    "report_streetlight",
    "report_sanitation",
    "report_road",
    "report_water",
    "report_gas",
    "report_noise",
)


def _confirm_prompt(ctx: Context) -> str:
    label = ctx.services.category_labels.get(ctx.state["category"], "问题")
    return (
        f"您要反映的是【{label}】，地点：{ctx.state['location']}。\n"
        "回复 1 确认提交，回复 2 修改地点，回复“取消”不提交。"
    )


@intent(*REPORT_INTENTS)
async def start_report(ctx: Context) -> None:
    """Begin a report from its intent: urgent advice first, then location or confirmation."""
    category = ctx.services.report_intents.get(ctx.intent or "", "other")
    location = ctx.entity("location")
    ctx.state.clear()
    ctx.state.update(flow="report", category=category, description=ctx.text, retries=0)
    if category in ctx.services.urgent_categories:
        ctx.reply(GAS_ADVICE)
    if location and category in ctx.services.urgent_categories:
        ctx.state["location"] = location
        await file_ticket(ctx)  # urgent: no confirmation round-trip before the push
    elif location:
        ctx.state.update(location=location, step="confirm")
        ctx.action = "report_confirm"
        ctx.reply(_confirm_prompt(ctx))
    else:
        ctx.state["step"] = "location"
        ctx.action = "report_ask_location"
        ctx.reply(ASK_LOCATION)


def _changes_topic(ctx: Context) -> bool:
    parse = ctx.parse
    return bool(parse and parse.intent in LEAVE_INTENTS and parse.confidence >= LEAVE_CONFIDENCE)


async def _retry(ctx: Context, prompt: str) -> None:
    gave_up = "没能确认信息，这次先不提交了。您可以重新描述问题，或回复“转人工”。"
    ask_again(ctx, prompt, action="report_abandoned", gave_up=gave_up)


@intent("flow:report")
async def continue_report(ctx: Context) -> bool:
    """Take the answer to the bot's last question in a report (place, then confirmation)."""
    if ctx.state.get("step") == "location":
        return await _take_location(ctx)
    if ctx.state.get("step") == "confirm":
        return await _take_confirmation(ctx)
    return False


async def _take_location(ctx: Context) -> bool:
    if _changes_topic(ctx) and not ctx.entity("location"):
        return False
    location = ctx.entity("location") or ctx.text.strip()
    if not 2 <= len(location) <= 80:
        await _retry(ctx, ASK_LOCATION)
        return True
    ctx.state.update(location=location, step="confirm", retries=0)
    if ctx.state["category"] in ctx.services.urgent_categories:
        await file_ticket(ctx)
        return True
    ctx.action = "report_confirm"
    ctx.reply(_confirm_prompt(ctx))
    return True


async def _take_confirmation(ctx: Context) -> bool:
    choice = choice_number(ctx.text)
    if choice == 1 or (choice is None and ctx.intent == "affirm"):
        await file_ticket(ctx)
    elif choice == 2 or (choice is None and ctx.intent == "deny"):
        ctx.state.update(step="location", retries=0)
        ctx.action = "report_ask_location"
        ctx.reply("好的，请重新告诉我具体地点：")
    elif _changes_topic(ctx):
        return False
    else:
        await _retry(ctx, "请回复 1 确认提交，回复 2 修改地点，或回复“取消”。")
    return True


async def file_ticket(ctx: Context) -> None:
    """File the report (or join the open ticket of the same problem) and tell the resident."""
    location = str(ctx.state["location"])
    category = str(ctx.state["category"])
    filed = await open_ticket(
        ctx.session,
        ctx.services,
        category=category,
        location=location,
        description=str(ctx.state.get("description") or ""),
        reporter=ctx.resident,
        now=ctx.now,
        actor=f"resident:{ctx.resident.id}",
        conversation_id=ctx.conversation.id,
        source_message_id=ctx.message_id,
    )
    ctx.state.clear()
    ticket, label = filed.ticket, ctx.services.category_labels.get(category, "问题")
    if filed.merged:
        ctx.action = f"ticket_linked:{ticket.number}"
        ctx.reply(
            f"这个问题已经有居民反映过，正在处理中（工单号 {ticket.number}）。"
            "已把您加入通知名单，处理进展会同时告诉您。"
        )
        return
    await announce(ctx.session, ctx.services, filed, ctx.resident)
    ctx.action = f"ticket_created:{ticket.number}"
    worker = filed.assignee
    who = f"已派给{worker.name}处理" if worker else "社区工作人员会尽快安排处理"
    ctx.reply(
        f"已为您登记【{label}】问题（{location}），工单号 {ticket.number}。{who}，有进展会告诉您。"
        f"想了解进度，发送“查询 {ticket.number}”即可。"
    )
