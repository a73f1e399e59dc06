"""Micro-wish commands: staff (通过 / 驳回 X1001), volunteers (心愿清单, 认领, 圆梦 X1001) and
the resident's thanks (答谢 X1001 [words]; without words the bot asks for them).

Each step is pushed to the people it concerns: the resident hears of every step, volunteers
hear of newly listed wishes, staff hear who claimed and fulfilled a wish so they can arrange
the hand-over (volunteers never get the resident's contact details).
"""

from __future__ import annotations

from handlers.commands import Command
from handlers.context import Context
from handlers.engine.details import ticket_number
from handlers.engine.forms import Form, Slot
from handlers.engine.runner import Engine
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.registry import intent
from handlers.wishes.words import wish_line
from storage.community import workers_with_role
from storage.privacy import mask_text
from storage.push import push, push_to_resident, push_to_worker
from storage.residents import Resident
from storage.wishes import (
    PREFIX,
    Volunteer,
    Wish,
    all_volunteers,
    claim,
    fulfil,
    public_wishes,
    review,
    thank,
    volunteer_by_identity,
    wish_by_number,
)

REVIEWER_ROLES = frozenset({"staff", "leader"})
ASK_THANKS = "请说说您想对志愿者说的话，我们会转达。"
STATUS_TEXT = {
    "submitted": "等待社区审核",
    "approved": "已公开，等待志愿者认领",
    "claimed": "志愿者已认领，正在准备",
    "fulfilled": "已实现",
    "rejected": "未通过审核",
}


def _wish_command(ctx: Context) -> Command | None:
    """The command when it names a wish (X1001), else None."""
    command = ctx.command
    if command is None or not (command.number or "").startswith(PREFIX):
        return None
    return command


async def _wish(ctx: Context, command: Command) -> Wish | None:
    number = command.number or ""
    wish = await wish_by_number(ctx.session, number)
    if wish is None:
        ctx.reply(f"没有找到心愿 {number}，请核对编号。")
    return wish


async def _tell_resident(ctx: Context, wish: Wish, text: str, action: str) -> None:
    resident = await ctx.session.get(Resident, wish.resident_id)
    if resident is not None:
        await push_to_resident(ctx.session, resident, text, f"{action}:{wish.number}")


async def _tell_staff(ctx: Context, text: str, action: str) -> None:
    for staff in await workers_with_role(ctx.session, "staff"):
        if ctx.worker is None or staff.id != ctx.worker.id:
            await push_to_worker(ctx.session, staff, text, action)


async def _volunteer(ctx: Context) -> Volunteer | None:
    return await volunteer_by_identity(
        ctx.session, ctx.conversation.platform, ctx.conversation.user_id
    )


@intent("cmd:通过")
async def approve_wish(ctx: Context) -> bool:
    """通过 X1001: staff list a checked wish publicly and tell the resident and volunteers."""
    command = _wish_command(ctx)
    if command is None or ctx.worker is None or ctx.worker.role not in REVIEWER_ROLES:
        return False
    wish = await _wish(ctx, command)
    if wish is None:
        return True
    if not await review(ctx.session, wish, approve=True, reviewer_id=ctx.worker.id, now=ctx.now):
        ctx.reply(f"心愿 {wish.number} 已经审核过了（{wish.status}）。")
        return True
    ctx.action = f"wish_approved:{wish.number}"
    await _tell_resident(
        ctx, wish, f"您的心愿 {wish.number} 已通过审核，已公开等待志愿者认领。", "wish_approved"
    )
    for volunteer in await all_volunteers(ctx.session):
        await push(
            ctx.session,
            platform=volunteer.platform,
            user_id=volunteer.platform_user_id,
            text=f"新的微心愿：{wish_line(wish)}\n愿意帮忙请回复“认领 {wish.number}”。",
            action=f"wish_listed:{wish.number}",
        )
    ctx.reply(f"已通过心愿 {wish.number}，已公开到心愿清单并通知志愿者。")
    return True


@intent("cmd:驳回")
async def reject_wish(ctx: Context) -> bool:
    """驳回 X1001 原因: staff turn a wish down with a reason the resident is told."""
    command = _wish_command(ctx)
    if command is None or ctx.worker is None or ctx.worker.role not in REVIEWER_ROLES:
        return False
    if not command.rest:
        ctx.reply(f"请写上原因，比如：驳回 {command.number} 内容包含个人信息")
        return True
    wish = await _wish(ctx, command)
    if wish is None:
        return True
    reason = command.rest[:200]
    done = await review(
        ctx.session, wish, approve=False, reviewer_id=ctx.worker.id, now=ctx.now, reason=reason
    )
    if not done:
        ctx.reply(f"心愿 {wish.number} 已经审核过了（{wish.status}）。")
        return True
    ctx.action = f"wish_rejected:{wish.number}"
    await _tell_resident(
        ctx,
        wish,
        f"您的心愿 {wish.number} 这次没有通过审核，原因：{reason}。可以修改后重新许愿。",
        "wish_rejected",
    )
    ctx.reply(f"已驳回心愿 {wish.number}，已告知居民。")
    return True


@intent("cmd:心愿清单")
async def list_wishes(ctx: Context) -> bool:
    """心愿清单: the wishes waiting for a volunteer (public words only)."""
    if ctx.command is None or ctx.command.number:
        return False
    waiting = [w for w in await public_wishes(ctx.session, limit=100) if w.status == "approved"]
    ctx.action = "wish_list"
    if not waiting:
        ctx.reply("现在没有等待认领的心愿，谢谢您的关心！")
        return True
    lines = "\n".join(wish_line(w) for w in waiting[:10])
    ctx.reply(
        f"等待认领的心愿：\n{lines}\n愿意帮忙请回复“认领 编号”，比如：认领 {waiting[0].number}"
    )
    return True


def _not_claimable(wish: Wish, volunteer: Volunteer) -> str:
    if wish.volunteer_id == volunteer.id:
        return f"心愿 {wish.number} 您已经认领了。"
    if wish.status in ("submitted", "rejected"):
        return f"心愿 {wish.number} 还没有公开，暂时不能认领。发送“心愿清单”看看等待认领的心愿。"
    return f"心愿 {wish.number} 已经被其他志愿者认领了，谢谢您！发送“心愿清单”看看其他心愿。"


@intent("cmd:认领")
async def claim_wish(ctx: Context) -> bool:
    """认领 X1001: a registered volunteer claims a listed wish; the first one wins."""
    command = _wish_command(ctx)
    if command is None:
        return False
    volunteer = await _volunteer(ctx)
    if volunteer is None:
        ctx.reply("认领心愿需要先登记成为志愿者，请联系社区工作人员登记。")
        return True
    wish = await _wish(ctx, command)
    if wish is None:
        return True
    if not await claim(ctx.session, wish, volunteer.id, ctx.now):
        ctx.reply(_not_claimable(wish, volunteer))
        return True
    ctx.action = f"wish_claimed:{wish.number}"
    await _tell_resident(
        ctx,
        wish,
        f"好消息！您的心愿 {wish.number} 已被志愿者{volunteer.name}认领。",
        "wish_claimed",
    )
    await _tell_staff(
        ctx,
        f"心愿 {wish.number} 已由志愿者{volunteer.name}认领，请协助联系居民交接。",
        f"wish_claimed:{wish.number}",
    )
    ctx.reply(
        f"认领成功！心愿：{wish_line(wish)}\n社区工作人员会联系您安排交接。"
        f"心愿实现后请回复“圆梦 {wish.number}”。"
    )
    return True


@intent("cmd:圆梦")
async def fulfil_wish(ctx: Context) -> bool:
    """圆梦 X1001 [note]: the volunteer who claimed a wish reports it fulfilled."""
    command = _wish_command(ctx)
    if command is None:
        return False
    volunteer = await _volunteer(ctx)
    if volunteer is None:
        return False
    wish = await _wish(ctx, command)
    if wish is None:
        return True
    if not await fulfil(ctx.session, wish, volunteer.id, command.rest or None, ctx.now):
        ctx.reply(f"心愿 {wish.number} 不是您认领中的心愿，请核对编号。")
        return True
    ctx.action = f"wish_fulfilled:{wish.number}"
    await _tell_resident(
        ctx,
        wish,
        f"您的心愿 {wish.number}（{wish.wish}）已由志愿者{volunteer.name}帮您实现啦！\n"
        f"想对志愿者说句感谢的话吗？回复“答谢 {wish.number}”，我们帮您转达。",
        "wish_fulfilled",
    )
    await _tell_staff(
        ctx, f"心愿 {wish.number} 已由志愿者{volunteer.name}实现。", f"wish_fulfilled:{wish.number}"
    )
    ctx.reply(f"谢谢您！心愿 {wish.number} 已记为实现，居民会收到通知。")
    return True


@intent("cmd:答谢")
async def thank_volunteer(ctx: Context) -> bool:
    """答谢 X1001 [words]: the resident thanks the volunteer who fulfilled their wish."""
    command = _wish_command(ctx)
    if command is None:
        return False
    wish = await wish_by_number(ctx.session, command.number or "")
    if wish is None or wish.resident_id != ctx.resident.id:
        ctx.reply(f"没有找到您名下的心愿 {command.number}，请核对编号。")
        return True
    if wish.status != "fulfilled" or wish.thanked_at is not None:
        ctx.reply(f"心愿 {wish.number} 现在{STATUS_TEXT.get(wish.status, '')}，暂时不能留言答谢。")
        return True
    if not command.rest:
        await Engine((THANKS,)).start(ctx, THANKS)  # asks for the words; the engine takes them
        return True
    await _pass_thanks(ctx, wish, command.rest)
    return True


async def _pass_thanks(ctx: Context, wish: Wish, words: str) -> None:
    note = mask_text(words)[:200]
    if not await thank(ctx.session, wish, ctx.resident.id, note, ctx.now):
        ctx.reply(f"心愿 {wish.number} 已经答谢过了，谢谢您！")
        return
    volunteer = await ctx.session.get(Volunteer, wish.volunteer_id) if wish.volunteer_id else None
    if volunteer is not None:
        await push(
            ctx.session,
            platform=volunteer.platform,
            user_id=volunteer.platform_user_id,
            text=f"您帮助实现的心愿 {wish.number}（{wish.wish}），居民对您说：“{note}”",
            action=f"wish_thanks:{wish.number}",
        )
    ctx.action = f"wish_thanked:{wish.number}"
    ctx.reply("已把您的感谢转达给志愿者，谢谢您！")


async def _thanks_started(turn: Turn) -> None:
    """The wish being thanked is the one the command named."""
    command = turn.ctx.command
    turn.flow.values["wish"] = (command.number or "").upper() if command else None


def _wish_number(turn: Turn) -> SlotValue:
    number = ticket_number(turn.text)
    return number if number and number.startswith(PREFIX) else None


def _words(turn: Turn) -> SlotValue:
    text = turn.text.strip()
    return text or None


async def _take_thanks(turn: Turn) -> None:
    ctx = turn.ctx
    wish = await wish_by_number(ctx.session, turn.flow.text("wish"))
    if wish is None or wish.resident_id != ctx.resident.id:
        ctx.reply("没有找到要答谢的心愿，请发送“答谢 编号”，比如：答谢 X1001。")
        return
    await _pass_thanks(ctx, wish, turn.flow.text("words"))


THANKS = Form(
    title="答谢",
    name="wish_thanks",
    intents=(),  # started by 答谢 X1001 without words
    slots=(
        Slot("wish", "心愿", "要答谢哪个心愿？比如：X1001。", extract=(_wish_number,)),
        Slot("words", "感谢的话", ASK_THANKS, when_asked=(_words,)),
    ),
    complete=_take_thanks,
    on_start=_thanks_started,
    withdrawn="好的，不留言了。想答谢的时候发送“答谢 编号”就行。",
)
