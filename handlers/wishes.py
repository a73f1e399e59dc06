"""Micro-wishes (微心愿), the resident's side: post a wish (what, for whom, by when) and thank.

Only the public words of a wish are stored for the list: phone and ID numbers, the place and
house numbers are taken out, and the resident's name is never shown. Staff check each wish
before it is listed (handlers/wish_commands.py has the staff and volunteer commands).
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.dialogue import ASKED_AGAIN, choice_number, squeeze
from handlers.registry import intent
from storage.community import workers_with_role
from storage.privacy import mask_text
from storage.push import push, push_to_worker
from storage.wishes import Volunteer, Wish, create_wish, thank, wish_by_number, wishes_of

ASK_WHAT = "请说说您的心愿是什么，比如：孩子想要一套课外书。"
ASK_WHOM = "这个心愿是给谁的？回复 1 自己，2 家里老人，3 孩子，也可以直接说，比如：我孙女。"
ASK_DUE = "希望什么时候前实现？比如：六一之前、下个月底。不着急请回复 0。"
WHOM_CHOICES = {1: "本人", 2: "老人", 3: "孩子"}
_ELDER = ("爸", "妈", "爷", "奶", "姥", "外公", "外婆", "老伴", "老人", "公公", "婆婆")
_CHILD = ("孩子", "儿子", "女儿", "孙", "娃", "学生", "宝宝", "闺女")
_SELF = ("我自己", "自己", "本人", "我")
# Every repeat that can fail after it is bounded, so no start position backtracks over a
# whole run of spaces or digits (tests/test_regex_steps.py counts the steps).
_CONTACT = re.compile(r"(?:电话|手机|号码|联系方式|身份证号?)?[是为:：\s]{0,4}[\dXx*]{7,}")
_PUNCT_RUN = re.compile(r"[，,。；;、\s]{2,}")
_HOUSE = re.compile(r"\d{1,6}\s{0,2}(?:号楼|栋|单元|室|号|楼)")
LEAVE_INTENTS = frozenset({"human_handoff", "complain"})
LEAVE_CONFIDENCE = 0.9
STATUS_TEXT = {
    "submitted": "等待社区审核",
    "approved": "已公开，等待志愿者认领",
    "claimed": "志愿者已认领，正在准备",
    "fulfilled": "已实现",
    "rejected": "未通过审核",
}


def public_words(text: str, place: str | None = None) -> str:
    """The wish as it may be shown publicly: no phone or ID numbers, place or house numbers."""
    words = _CONTACT.sub("", text.strip())
    if place:
        words = words.replace(place, "")
    words = _PUNCT_RUN.sub("，", _HOUSE.sub("", words))
    return words.strip(" ，,。.！!；;、")[:100]


def whom_label(text: str) -> str:
    """Who the wish is for, in the public list's words (本人, 老人, 孩子, 家人)."""
    choice = choice_number(text)
    if choice in WHOM_CHOICES:
        return WHOM_CHOICES[choice]
    bare = squeeze(text)
    if any(word in bare for word in _CHILD):
        return "孩子"
    if any(word in bare for word in _ELDER):
        return "老人"
    if bare in _SELF:
        return "本人"
    return "家人"


def wish_line(wish: Wish) -> str:
    """One line of the public list: number, for whom, what, by when (no personal details)."""
    due = f"（希望{mask_text(wish.due_text)}）" if wish.due_text else ""
    return f"{wish.number}【{wish.for_whom}】{mask_text(wish.wish)}{due}"


@intent("make_wish")
async def start_wish(ctx: Context) -> None:
    """Begin a wish: take what the resident wants from the message, or ask for it."""
    ctx.state.clear()
    ctx.state.update(flow="wish", retries=0)
    relation = ctx.entity("relation")
    if relation:
        ctx.state["for_whom"] = whom_label(relation)
    if "心愿" in ctx.text or len(squeeze(ctx.text)) < 4:
        ctx.state["step"] = "what"
        ctx.action = "wish_ask_what"
        ctx.reply("好的，帮您许一个微心愿，党员和志愿者会认领帮您实现。\n" + ASK_WHAT)
        return
    ctx.state["wish"] = public_words(ctx.text, ctx.entity("location"))
    await _next_question(ctx)


async def _next_question(ctx: Context) -> None:
    if "for_whom" not in ctx.state:
        ctx.state["step"] = "whom"
        ctx.action = "wish_ask_whom"
        ctx.reply(ASK_WHOM)
    elif "due" not in ctx.state:
        ctx.state["step"] = "due"
        ctx.action = "wish_ask_due"
        ctx.reply(ASK_DUE)
    else:
        ctx.state["step"] = "confirm"
        ctx.action = "wish_confirm"
        due = f"（希望{ctx.state['due']}）" if ctx.state["due"] else ""
        ctx.reply(
            f"将公开展示的心愿：【{ctx.state['for_whom']}】{ctx.state['wish']}{due}\n"
            "您的姓名、电话和住址不会公开。回复 1 提交，回复 2 重新说心愿内容。"
        )


def _leaves(ctx: Context) -> bool:
    """True when the wish's content is clearly something else (a report, 转人工, a complaint)."""
    parse = ctx.parse
    return bool(
        parse
        and parse.confidence >= LEAVE_CONFIDENCE
        and (parse.intent in LEAVE_INTENTS or parse.intent.startswith("report_"))
    )


@intent("flow:wish")
async def continue_wish(ctx: Context) -> bool:
    """Take the answer to the wish flow's last question."""
    step = ctx.state.get("step")
    text = ctx.text.strip()
    if step == "what" and _leaves(ctx):
        return False
    if step == "what":
        words = public_words(text, ctx.entity("location"))
        if len(words) < 2:
            ctx.action = ASKED_AGAIN
            ctx.reply(ASK_WHAT)
            return True
        ctx.state["wish"] = words
    elif step == "whom":
        ctx.state["for_whom"] = whom_label(text)
    elif step == "due":
        # shown on the public list: the resident's date words, numbers masked (mask, then cut)
        ctx.state["due"] = (
            "" if choice_number(text) == 0 or "不着急" in text else mask_text(text)[:20]
        )
    elif step == "confirm":
        choice = choice_number(text)
        if choice == 1 or (choice is None and ctx.intent == "affirm"):
            await submit_wish(ctx)
            return True
        if choice != 2 and ctx.intent != "deny":
            ctx.action = ASKED_AGAIN
            ctx.reply("请回复 1 提交心愿，回复 2 重新说心愿内容，或回复“取消”。")
            return True
        ctx.state.pop("wish", None)
        ctx.state["step"] = "what"
        ctx.reply(ASK_WHAT)
        return True
    else:
        return False
    await _next_question(ctx)
    return True


async def submit_wish(ctx: Context) -> None:
    """Record the wish, tell staff it waits for their check, give the resident its number."""
    wish = await create_wish(
        ctx.session,
        resident_id=ctx.resident.id,
        conversation_id=ctx.conversation.id,
        wish=str(ctx.state["wish"]),
        for_whom=str(ctx.state["for_whom"]),
        due_text=str(ctx.state.get("due") or "") or None,
        now=ctx.now,
    )
    ctx.state.clear()
    ctx.action = f"wish_submitted:{wish.number}"
    for staff in await workers_with_role(ctx.session, "staff"):
        await push_to_worker(
            ctx.session,
            staff,
            f"新的微心愿待审核：{wish_line(wish)}\n"
            f"审核通过请回复“通过 {wish.number}”，不通过请回复“驳回 {wish.number} 原因”。",
            "wish_review",
        )
    ctx.reply(
        f"您的心愿已提交，编号 {wish.number}。社区审核后会公开给志愿者认领，有进展会告诉您。"
        f"想了解进度，发送“查询”即可。"
    )


@intent("cmd:答谢")
async def thank_volunteer(ctx: Context) -> bool:
    """答谢 X1001 [words]: the resident thanks the volunteer who fulfilled their wish."""
    command = ctx.command
    if command is None or not (command.number or "").startswith("X"):
        return False
    wish = await wish_by_number(ctx.session, command.number or "")
    if wish is None or wish.resident_id != ctx.resident.id:
        ctx.reply(f"没有找到您名下的心愿 {command.number}，请核对编号。")
        return True
    if wish.status != "fulfilled" or wish.thanked_at is not None:
        ctx.reply(f"心愿 {wish.number} 现在{STATUS_TEXT.get(wish.status, '')}，暂时不能留言答谢。")
        return True
    if not command.rest:
        ctx.state.clear()
        ctx.state.update(flow="wish_thanks", number=wish.number)
        ctx.action = "wish_ask_thanks"
        ctx.reply("请说说您想对志愿者说的话，我们会转达：")
        return True
    await _pass_thanks(ctx, wish, command.rest)
    return True


@intent("flow:wish_thanks")
async def take_thanks(ctx: Context) -> bool:
    """The thank-you words the bot asked for after 答谢 X1001."""
    wish = await wish_by_number(ctx.session, str(ctx.state.get("number", "")))
    ctx.state.clear()
    if wish is None or wish.resident_id != ctx.resident.id or not ctx.text.strip():
        return False
    await _pass_thanks(ctx, wish, ctx.text.strip())
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


async def status_lines(session: AsyncSession, resident_id: int) -> list[str]:
    """The resident's wishes still moving, one line each, for check_status."""
    lines = []
    for wish in await wishes_of(session, resident_id):
        step = STATUS_TEXT.get(wish.status, wish.status)
        if wish.status == "fulfilled":
            step += f"，回复“答谢 {wish.number}”可以给志愿者留句话"
        lines.append(f"心愿 {wish.number}【{wish.wish}】：{step}")
    return lines
