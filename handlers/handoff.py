"""A person takes over: 转人工, repeated misunderstanding, and release.

Complaints to staff are a form of their own (handlers/complaints/).

While a conversation is handed off the bot stays quiet in it (dispatch checks first); its
messages are stored for staff, who answer through the admin API (bot/api_handoff.py) and
release it from there or from chat (释放 H1003).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.errors import Conflict, NotFound
from handlers.registry import intent
from storage.accounts import audit
from storage.community import workers_with_role
from storage.messages import Message, record_outbound
from storage.privacy import mask_name, mask_phone, mask_text
from storage.push import push_to_worker
from storage.residents import Conversation

PREFIX = "H"
NUMBER_OFFSET = 1000
MISUNDERSTOOD = frozenset({"menu"})  # actions of turns where the bot did not understand
MISUNDERSTOOD_LIMIT = 3
HISTORY = 10
RELEASED = "人工服务已结束。还有需要随时给我发消息，我会继续为您服务。"


def conversation_number(conversation_id: int) -> str:
    """The number staff type to name a conversation in chat (H1003)."""
    return f"{PREFIX}{NUMBER_OFFSET + conversation_id}"


async def hand_over(ctx: Context, reason: str, answer: str | None = None) -> None:
    """Flag the conversation for staff, tell every staff member, and say so to the resident."""
    ctx.conversation.handed_off = True
    ctx.state.clear()
    number = conversation_number(ctx.conversation.id)
    who = f"{mask_name(ctx.resident.name)}（电话 {mask_phone(ctx.resident.phone)}）"
    notice = (
        f"【转人工】会话 {number}，居民 {who}：{reason}。\n"
        f"最近一句：“{mask_text(ctx.text)[:100]}”\n"
        f"请在管理后台回复居民；处理完请回复“释放 {number}”。"
    )
    for staff in await workers_with_role(ctx.session, "staff"):
        await push_to_worker(ctx.session, staff, notice, f"handoff:{number}")
    ctx.reply(
        answer
        or f"好的，已为您转接{ctx.services.community}工作人员，请稍候，工作人员看到后会尽快回复您。"
    )


@intent("human_handoff")
async def request_handoff(ctx: Context) -> None:
    """The resident asks for a person (转人工)."""
    await hand_over(ctx, "居民要求人工服务")
    ctx.action = "handoff"


async def stay_quiet(ctx: Context) -> None:
    """A message in a handed-off conversation: not answered by the bot, passed on to staff."""
    ctx.action = "handed_off"
    number = conversation_number(ctx.conversation.id)
    notice = (
        f"会话 {number} 居民 {mask_name(ctx.resident.name)} 又说：“{mask_text(ctx.text)[:200]}”"
    )
    for staff in await workers_with_role(ctx.session, "staff"):
        await push_to_worker(ctx.session, staff, notice, f"handoff_message:{number}")


async def misunderstood_again(ctx: Context) -> bool:
    """Hand over when the bot did not understand this message nor the two before it."""
    stmt = (
        select(Message.action)
        .where(
            Message.conversation_id == ctx.conversation.id,
            Message.direction == "in",
            Message.id < ctx.message_id,
            Message.status == "done",
        )
        .order_by(Message.id.desc())
        .limit(MISUNDERSTOOD_LIMIT - 1)
    )
    earlier = list((await ctx.session.scalars(stmt)).all())
    if len(earlier) < MISUNDERSTOOD_LIMIT - 1 or any(a not in MISUNDERSTOOD for a in earlier):
        return False
    await hand_over(ctx, f"连续{MISUNDERSTOOD_LIMIT}次没能理解居民的意思")
    ctx.action = "handoff_misunderstood"
    return True


async def recent_history(
    session: AsyncSession, conversation_id: int, before_id: int
) -> list[dict[str, Any]]:
    """The last messages of a conversation, oldest first, with personal numbers masked."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id < before_id)
        .order_by(Message.id.desc())
        .limit(HISTORY)
    )
    rows = list((await session.scalars(stmt)).all())
    return [
        {
            "at": m.created_at.isoformat(),
            "from": "居民" if m.direction == "in" else "邻里",
            "text": mask_text(m.text or "")[:500],
        }
        for m in reversed(rows)
    ]


async def release(session: AsyncSession, conversation: Conversation, by: str) -> bool:
    """Give a handed-off conversation back to the bot and tell the resident; False if not held."""
    if not conversation.handed_off:
        return False
    conversation.handed_off = False
    record_outbound(
        session,
        conversation_id=conversation.id,
        platform=conversation.platform,
        text=RELEASED,
        reply_to_id=None,
        action=f"handoff_released:{by}"[:64],
    )
    await session.flush()
    return True


def staff_reply(session: AsyncSession, conversation: Conversation, text: str) -> Message:
    """Queue a staff member's words to the resident, marked as coming from a person."""
    return record_outbound(
        session,
        conversation_id=conversation.id,
        platform=conversation.platform,
        text=f"【社区工作人员】{text}",
        reply_to_id=None,
        action="staff_reply",
    )


async def held_conversation(session: AsyncSession, conversation_id: int | None) -> Conversation:
    """The conversation by id, or NotFound (None: an id no row can have)."""
    found = await session.get(Conversation, conversation_id) if conversation_id else None
    if found is None:
        raise NotFound("no such conversation")
    return found


async def reply_as_staff(
    session: AsyncSession,
    conversation_id: int | None,
    text: str,
    by: str,
    *,
    held_only: bool = True,
) -> Message:
    """Staff words to a resident, audited; Conflict unless handed off (when held_only)."""
    conversation = await held_conversation(session, conversation_id)
    if held_only and not conversation.handed_off:
        raise Conflict("the bot holds this conversation", code="not_handed_off")
    message = staff_reply(session, conversation, text)
    await session.flush()
    audit(session, by, "staff_reply", f"conversation:{conversation.id}")
    return message


async def release_held(
    session: AsyncSession, conversation_id: int | None, by: str, *, audited: bool = True
) -> Conversation:
    """Give a handed-off conversation back to the bot; Conflict if it is not handed off."""
    conversation = await held_conversation(session, conversation_id)
    if not await release(session, conversation, by):
        raise Conflict("this conversation is not handed off", code="not_handed_off")
    if audited:
        audit(session, by, "release", f"conversation:{conversation.id}")
    return conversation


@intent("cmd:释放")
async def release_command(ctx: Context) -> bool:
    """释放 H1003: staff give a conversation back to the bot from chat."""
    number = ctx.command.number if ctx.command else None
    if not number or not number.startswith(PREFIX) or ctx.worker is None:
        return False
    if ctx.worker.role not in ("staff", "leader"):
        return False
    try:
        await release_held(
            ctx.session, int(number[1:]) - NUMBER_OFFSET, ctx.worker.name, audited=False
        )
    except (NotFound, Conflict):
        ctx.reply(f"会话 {number} 没有在人工服务中，请核对编号。")
        return True
    ctx.action = f"release:{number}"
    ctx.reply(f"已释放会话 {number}，机器人会继续回复这位居民。")
    return True
