"""The micro-wish form: what is wished (for whom, by when), the contact kept private, a yes, X….

Only what is wished is needed; for whom (本人 unless said), by when and the contact are
taken whenever the resident says them. The confirmation shows the wish as the public list
will show it and asks for a phone or address for staff, so "东关北街5号 13512340000 对"
answers both. Staff check each wish before it is listed (handlers/wishes/commands.py).
"""

from __future__ import annotations

import re

from handlers.engine.details import phone
from handlers.engine.forms import Form, Slot, never
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.wishes.words import address, for_whom, wanted_by, whom_label, wish_line, wish_text
from nlu.normalize import normalize
from storage.community import workers_with_role
from storage.privacy import mask_phone, mask_text
from storage.push import push_to_worker
from storage.wishes import create_wish

ASK_WHAT = "请说说心愿是什么，比如：孩子想要一套课外书。"
INTRO = "好的，帮您许个微心愿，党员和志愿者会认领帮您实现。"
MAX_DUE = 20


def _what(turn: Turn) -> SlotValue:
    """What is wished, read out of any message (from the words that say it is wanted)."""
    if turn.focus is not None:  # a correction: 不是篮球 是足球 / 不对 是给我孙女的
        if any(read(turn.text) for read in (for_whom, wanted_by, address, phone)):
            return None  # it corrects another piece
        return wish_text(turn.text, needs_cue=False, replaced=turn.answer.replaced)
    return wish_text(turn.text, needs_cue=True)


def _what_answer(turn: Turn) -> SlotValue:
    """The answer to "what is your wish?": the words said, without the private ones."""
    return wish_text(turn.text, needs_cue=False)


def _whom(turn: Turn) -> SlotValue:
    return for_whom(turn.text)


def _due(turn: Turn) -> SlotValue:
    due = wanted_by(turn.text)
    return mask_text(due)[:MAX_DUE] if due else None


def _address(turn: Turn) -> SlotValue:
    return address(turn.text)


def _phone(turn: Turn) -> SlotValue:
    return phone(turn.text)


async def _ask_what(turn: Turn) -> str:
    if len(turn.flow.said) <= 1 and not turn.flow.misunderstood:
        return f"{INTRO}\n{ASK_WHAT}"
    return ASK_WHAT


def _whom_shown(turn: Turn, value: SlotValue) -> str:
    return whom_label(str(value) if value else None)


def _contact(turn: Turn) -> str:
    """The contact line of the confirmation: what staff will have, or a request for it."""
    said = turn.flow.text("phone") or turn.ctx.resident.phone or ""
    parts = [mask_phone(said) if said else "", turn.flow.text("address")]
    shown = " ".join(p for p in parts if p)
    if not shown:
        return "留个电话或住址，方便工作人员联系您（不公开）。"
    return f"联系您：{shown}（只给工作人员，不公开）"


async def _summary(turn: Turn) -> str:
    flow = turn.flow
    due = f"（希望{flow.text('due')}）" if flow.get("due") else ""
    whom = whom_label(flow.text("for_whom") or None)
    return (
        f"将公开的心愿：【{whom}】{flow.text('what')}{due}\n"
        f"{_contact(turn)}\n对吗？回复“对”提交，要改直接告诉我。"
    )


async def submit_wish(turn: Turn) -> None:
    """Record the wish and the contact, tell staff it waits for their check, give its number."""
    ctx, flow = turn.ctx, turn.flow
    if flow.get("phone"):
        ctx.resident.phone = flow.text("phone")
    if flow.get("address"):
        ctx.resident.address = flow.text("address")
    wish = await create_wish(
        ctx.session,
        resident_id=ctx.resident.id,
        conversation_id=ctx.conversation.id,
        wish=flow.text("what"),
        for_whom=whom_label(flow.text("for_whom") or None),
        due_text=flow.text("due") or None,
        now=ctx.now,
    )
    number = str(wish.number)
    turn.remember("wish", number)
    ctx.action = f"wish_submitted:{number}"
    for staff in await workers_with_role(ctx.session, "staff"):
        await push_to_worker(
            ctx.session,
            staff,
            f"新的微心愿待审核：{wish_line(wish)}\n"
            f"审核通过请回复“通过 {number}”，不通过请回复“驳回 {number} 原因”。",
            "wish_review",
        )
    ctx.reply(f"您的心愿已提交，编号 {number}。\n社区审核后公开给志愿者认领，有进展会告诉您。")


_COST = re.compile(r"钱|收费|费用|花费")
_PRIVATE = re.compile(r"公开|别人知道|隐私|保密|名字|姓名|电话|住址")
_WHO_HELPS = re.compile(r"谁|哪些人|什么人")
_HOW_LONG = re.compile(r"多久|多长时间|什么时候|啥时候|几天")


def _answers(turn: Turn) -> str | None:
    """Questions about a wish while it is being made: the cost, privacy, who helps, when."""
    plain = normalize(turn.text).text
    if _PRIVATE.search(plain):
        return "只公开心愿内容，您的姓名、电话和住址不会公开。"
    if _COST.search(plain):
        return "不用花钱，党员和志愿者认领后帮您实现。"
    if _WHO_HELPS.search(plain):
        return "社区审核后公开，由党员和志愿者认领帮您实现。"
    if _HOW_LONG.search(plain):
        return "社区审核后公开，有志愿者认领会第一时间告诉您。"
    return None


_NAMED = re.compile(r"心愿|许个?愿")


def recognises(text: str) -> bool:
    """A message naming a wish in its own words (想许个愿, 我的心愿是…)."""
    return _NAMED.search(normalize(text).text) is not None


WISH = Form(
    title="许微心愿",
    name="wish",
    intents=("make_wish",),
    slots=(
        Slot("what", "心愿", _ask_what, extract=(_what,), when_asked=(_what_answer,)),
        Slot(
            "for_whom",
            "为谁",
            "这个心愿是给谁的？比如：我孙女。",
            extract=(_whom,),
            required=never,
            show=_whom_shown,
        ),
        Slot("due", "期限", "希望什么时候前实现？比如：月底前。", extract=(_due,), required=never),
        Slot(
            "address",
            "住址",
            "您住在哪里？比如：东关中巷3号楼。",
            extract=(_address,),
            required=never,
        ),
        Slot("phone", "电话", "您的电话是多少？", extract=(_phone,), required=never),
    ),
    complete=submit_wish,
    summary=_summary,
    withdrawn="好的，这个心愿先不许了。想许的时候随时告诉我。",
    answers=_answers,
    recognises=recognises,
    lenient_start=True,  # the summary shows the wish as understood; nothing is filed unasked
    answer_with_yes_completes=False,  # its text goes on the public list: seen before it does
)
