"""Disability services: certificate, assistive device, home accessibility, employment.

Each collects what staff need (for whom, what exactly, the home for a modification, a
contact phone shown masked), confirms, and files a service ticket that goes to staff.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from handlers.context import Context
from handlers.dialogue import LEAVE_CONFIDENCE, ask_again, choice_number
from handlers.registry import intent
from handlers.ticket_notices import announce
from storage.privacy import mask_phone
from storage.ticket_flow import Filed, open_ticket


@dataclass(frozen=True)
class Kind:
    """One service: its ticket category, what to ask, and what happens after filing."""

    category: str
    field: str  # key of the answer in the ticket's details
    what: str  # how the answer is named to the resident
    question: str
    choices: tuple[str, ...]
    free: bool  # any short answer is accepted besides the numbers
    next_steps: str


KINDS = {
    "apply_disability_cert": Kind(
        "disability_cert",
        "matter",
        "办理事项",
        "请问要办理哪一项？",
        ("新办残疾证", "到期换证或补办", "跨省迁入、转办", "上门评残（行动不便）"),
        False,
        "工作人员会打电话告诉您要带的材料（身份证、户口本、近期免冠照片）；行动不便的可以预约上门评残，"
        "外省户口可以跨省通办。",
    ),
    "apply_assistive_device": Kind(
        "assistive_device",
        "device",
        "辅具",
        "需要申请什么辅具？",
        ("轮椅", "拐杖", "助听器", "助行器"),
        True,
        "工作人员会联系您做辅具适配评估，需要时上门量尺寸；持证残疾人可以申请适配。",
    ),
    "apply_accessibility": Kind(
        "accessibility",
        "modification",
        "改造内容",
        "想改造哪里？",
        ("卫生间装扶手、防滑", "门口修坡道、去门槛", "床边或楼道装扶手"),
        True,
        "工作人员会预约上门查看，改造方案先和您商量；重度困难残疾人家庭优先安排。",
    ),
    "seek_job": Kind(
        "job",
        "work",
        "需要的帮助",
        "需要哪方面的帮助？",
        ("推荐工作岗位", "职业技能培训", "辅助性就业、爱心门店", "招聘会信息"),
        True,
        "工作人员会根据您的情况推荐合适的岗位或培训，有招聘会也会第一时间通知您。",
    ),
}
_PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}\d{7,8}")
LEAVE_INTENTS = frozenset({"check_status", "human_handoff", "greet", "thank", "out_of_scope"})
NOT_A_PERSON = frozenset({"affirm", "deny", "greet", "thank"})  # 好的 / 不用 answer no 为谁


async def file_service_ticket(
    ctx: Context,
    category: str,
    description: str,
    details: dict[str, Any],
    location: str | None = None,
) -> Filed:
    """Open a service ticket for staff with the collected details and push its task card."""
    filed = await open_ticket(
        ctx.session,
        ctx.services,
        category=category,
        description=description,
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
    return filed


@intent(*KINDS)
async def start_disability_service(ctx: Context) -> None:
    """Begin an application: keep what the message already says, ask for the rest."""
    kind = KINDS[ctx.intent or ""]
    ctx.state.clear()
    ctx.state.update(flow="disability", intent=ctx.intent, request=ctx.text[:200], retries=0)
    if ctx.entity("relation"):
        ctx.state["for"] = ctx.entity("relation")
    if kind.field == "device" and ctx.entity("device"):
        ctx.state["what"] = ctx.entity("device")
    await _ask_next(ctx)


async def _ask_next(ctx: Context) -> None:
    kind = KINDS[ctx.state["intent"]]
    ctx.state["retries"] = 0
    if "for" not in ctx.state:
        step, text = "for", "请问是为谁申请？回复 1 本人，回复 2 家人（也可以直接说，比如：我妈）。"
    elif "what" not in ctx.state:
        lines = [f"回复 {i} {c}" for i, c in enumerate(kind.choices, 1)]
        tail = "\n也可以直接说。" if kind.free else ""
        step, text = "what", kind.question + "\n" + "\n".join(lines) + tail
    elif kind.category == "accessibility" and "address" not in ctx.state:
        step, text = "address", "请告诉我需要改造的住址，比如：安康小区4号楼2单元301。"
    elif "phone" not in ctx.state and ctx.resident.phone:
        step = "phone"
        text = f"联系电话用 {mask_phone(ctx.resident.phone)} 吗？回复 1 是，或直接输入新的号码。"
    elif "phone" not in ctx.state:
        step, text = "phone", "请留一个联系电话，工作人员会打电话联系您。"
    else:
        step, text = (
            "confirm",
            _summary(ctx, kind) + "\n回复 1 确认提交，回复 2 重新填写，回复“取消”不提交。",
        )
    ctx.state["step"] = step
    ctx.action = f"disability_{step}"
    ctx.reply(text)


def _summary(ctx: Context, kind: Kind) -> str:
    label = ctx.services.category_labels.get(kind.category, "申请")
    place = f"；住址：{ctx.state['address']}" if "address" in ctx.state else ""
    return (
        f"请核对：【{label}】为：{ctx.state['for']}；{kind.what}：{ctx.state['what']}{place}；"
        f"联系电话：{mask_phone(ctx.state['phone'])}。"
    )


def _answer(ctx: Context, kind: Kind, step: str, choice: int | None) -> str | None:
    """The value this message gives for the step, or None when it gives none."""
    text = ctx.text.strip()
    if step == "for":
        plain = choice is None and 1 <= len(text) <= 10 and ctx.intent not in NOT_A_PERSON
        return (
            {1: "本人", 2: "家人"}.get(choice or 0)
            or ctx.entity("relation")
            or (text if plain else None)
        )
    if step == "what":
        if choice is not None:
            return kind.choices[choice - 1] if 1 <= choice <= len(kind.choices) else None
        found = ctx.entity("device") if kind.field == "device" else None
        return found or (text if kind.free and 2 <= len(text) <= 60 else None)
    if step == "address":
        return ctx.entity("location") or (text if 4 <= len(text) <= 80 else None)
    if step == "phone":
        if choice == 1 and ctx.resident.phone:
            return ctx.resident.phone
        bare = re.sub(r"[\s\-－—]", "", unicodedata.normalize("NFKC", text))
        match = _PHONE.search(bare)
        return match.group() if match else None
    return None


@intent("flow:disability")
async def continue_disability_service(ctx: Context) -> bool:
    """Take the answer to the bot's last question in a disability-service application."""
    kind = KINDS[ctx.state["intent"]]
    step, choice = str(ctx.state.get("step")), choice_number(ctx.text)
    if step == "confirm":
        if choice == 1 or (choice is None and ctx.intent == "affirm"):
            await _file(ctx, kind)
            return True
        if choice == 2:
            for key in ("for", "what", "address", "phone"):
                ctx.state.pop(key, None)
            await _ask_next(ctx)
            return True
        value = None
    else:
        value = _answer(ctx, kind, step, choice)
    if value is not None:
        ctx.state[step] = value
        await _ask_next(ctx)
        return True
    parse = ctx.parse
    sure = parse is not None and parse.confidence >= LEAVE_CONFIDENCE
    if choice is None and parse and parse.intent in LEAVE_INTENTS and sure:
        return False
    ask_again(
        ctx,
        "没看明白，请按提示回复数字或直接说，回复“取消”可以不办。",
        action="disability_abandoned",
        gave_up="没能确认信息，这次先不提交了。您可以重新说一遍，或回复“转人工”。",
    )
    return True


async def _file(ctx: Context, kind: Kind) -> None:
    phone = str(ctx.state["phone"])
    details = {
        "for": ctx.state["for"],
        kind.field: ctx.state["what"],
        "phone": phone,
        "request": ctx.state.get("request"),
        **({"address": ctx.state["address"]} if "address" in ctx.state else {}),
    }
    description = f"{ctx.state['what']}（为{ctx.state['for']}），联系电话 {mask_phone(phone)}"
    filed = await file_service_ticket(
        ctx, kind.category, description, details, location=ctx.state.get("address")
    )
    if not ctx.resident.phone:
        ctx.resident.phone = phone
    label = ctx.services.category_labels.get(kind.category, "申请")
    ctx.state.clear()
    ctx.action = f"ticket_created:{filed.ticket.number}"
    who = f"社区工作人员{filed.assignee.name}" if filed.assignee else "社区工作人员"
    ctx.reply(
        f"已为您登记【{label}】，工单号 {filed.ticket.number}，"
        f"{who}会打 {mask_phone(phone)} 联系您。"
        f"{kind.next_steps}想了解进度，发送“查询 {filed.ticket.number}”即可。"
    )
