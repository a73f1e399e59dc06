"""The complaint form: what happened (as said), when / where / who if said, a yes, a ticket.

Only what happened is needed, in the resident's own words; a time (周三), a place and the
person complained about (网格员, 护工) are kept when said and never insisted on. Words added
at the confirmation join what happened; a correction (不是周三 是周四) changes the piece and
the account. The ticket (category complaint) goes to staff with the recent conversation
attached; 转人工 and release stay in handlers/handoff.py.
"""

from __future__ import annotations

import re

from handlers.engine.answers import AnswerKind, read_answer
from handlers.engine.details import is_question
from handlers.engine.forms import Form, OnSilence, Slot, never
from handlers.engine.state import CONFIRM, SlotValue
from handlers.engine.turn import Turn
from handlers.handoff import recent_history
from handlers.ticket_notices import announce
from nlu.normalize import normalize
from nlu.places import names_a_place
from storage.privacy import mask_text
from storage.ticket_flow import open_ticket

ASK_WHAT = "请说说发生了什么事，比如：约好上门做饭，到点没人来。"
INTRO = "好的，您要投诉的事我记下来，转给社区工作人员。"
MAX_WHAT = 1000
SHOWN = 60  # characters of what happened in the confirmation
MIN_SUBSTANCE = 5  # characters beyond "我要投诉" / "服务太差了" that say what happened
# Bounded repeats only (tests/unit/test_regex_steps.py counts the steps per start position).
_COMPLAINING = re.compile(
    r"(?:我|俺)?(?:要|想|得|就想|还想)?(?:投诉|举报|反映|告)(?:一下|下)?(?:你们社区|你们|他|她|这事)?"
)
_VERDICT = re.compile(
    r"(?:你们|这个|这|那个|社区|的){0,4}(?:服务|态度|效率|工作|办事|管理)?"
    r"(?:也|真|太|很|实在|特别|非常|真是){0,3}"
    r"(?:差劲|差|烂|糟糕|不行|恶劣|不像话|过分|气人|垃圾)(?:了|啊|呀|死了|透了){0,2}"
)
_FILLER = re.compile(r"那个|就是|这个|嗯|啊|哦|呃|唉|哎|我想|一下|吧|呢|了")
_BLANK = re.compile(r"[\s,，。.!！?？~～、…;；:：]")
_CLAUSE = re.compile(r"[^\s,，。.!！;；、?？~～…]+")
# when it happened, as said
_WHEN = re.compile(
    r"大前天|前天|昨天|今天|今早|昨晚|今晚|刚才|"
    r"(?:上上|上|这|本)个?(?:周|星期|礼拜)[一二三四五六日天]?|(?:周|星期|礼拜)[一二三四五六日天末]|"
    r"(?:上|这|本)个?月(?:初|底|中)?|[0-9]{1,2}月[0-9]{1,2}[号日]|"
    r"(?<![0-9])[0-9]{1,2}[号日](?!楼|院|单元|门)|(?<![0-9])[0-9]{1,2}点(?:半|多|钟)?"
)
# whom it is about
_WHO = re.compile(
    r"工作人员|网格员|护工|护理员|保洁员|保洁|保安|物业|维修工|维修师傅|师傅|医生|大夫|护士|"
    r"志愿者|社工|书记|主任|阿姨|司机|快递员|老师|服务员|送餐员"
)


def _said_match(text: str, pattern: re.Pattern[str]) -> str | None:
    """The first match of a pattern over the normalised text, in the characters typed."""
    norm = normalize(text)
    found = pattern.search(norm.text)
    if found is None:
        return None
    lo, hi = norm.to_original(found.start(), found.end())
    return norm.original[lo:hi]


def substance(text: str) -> str:
    """What is left of a message once the complaining words and verdicts are taken out."""
    plain = normalize(text).text
    for pattern in (_COMPLAINING, _VERDICT, _FILLER, _BLANK):
        plain = pattern.sub("", plain)
    return plain


def _when(text: str) -> str | None:
    return _said_match(text, _WHEN)


def _who(text: str) -> str | None:
    return _said_match(text, _WHO)


def _is_bare_answer(text: str) -> bool:
    answer = read_answer(text)
    return answer.kind is not AnswerKind.NONE and len(substance(answer.rest)) < MIN_SUBSTANCE


def _what(turn: Turn) -> SlotValue:
    """What happened, from a message that tells it (not 我要投诉 or 服务太差了 alone).

    At the confirmation, more words about it (那个护工姓刘) are added to what was said.
    """
    old = turn.flow.text("what")
    if turn.focus is not None:
        return _corrected(turn, old)
    if old:
        more = turn.flow.asking == CONFIRM and turn.answer.kind is AnswerKind.NONE
        if not more or is_question(turn.text) or len(substance(turn.text)) < 2:
            return None
        return f"{old} {turn.text.strip()}"[:MAX_WHAT]
    if _is_bare_answer(turn.text) or len(substance(turn.text)) < MIN_SUBSTANCE:
        return None
    return turn.text.strip()[:MAX_WHAT]


def _what_answer(turn: Turn) -> SlotValue:
    """The answer to "what happened?": the words as said."""
    if turn.flow.get("what") or _is_bare_answer(turn.text):
        return None
    return turn.text.strip()[:MAX_WHAT] if len(substance(turn.text)) >= 2 else None


def _corrected(turn: Turn, old: str) -> SlotValue:
    """不是周三 是周四来的那个: the account with the piece taken back replaced."""
    replaced = turn.answer.replaced
    if not old or not replaced or replaced not in old:
        return None
    clause = _CLAUSE.search(turn.text)
    piece = _when(turn.text) or _who(turn.text) or (clause.group() if clause else "")
    return old.replace(replaced, piece, 1) if piece else None


def _when_slot(turn: Turn) -> SlotValue:
    return _when(turn.text)


def _who_slot(turn: Turn) -> SlotValue:
    return _who(turn.text)


def _where_slot(turn: Turn) -> SlotValue:
    place = turn.place
    if place is None or len(place.text) < 2 or not names_a_place(place.text):
        return None
    return place.plain or place.text


async def _ask_what(turn: Turn) -> str:
    if len(turn.flow.said) <= 1 and not turn.flow.misunderstood:
        return f"{INTRO}\n{ASK_WHAT}"
    return ASK_WHAT


def _details(turn: Turn) -> list[str]:
    flow = turn.flow
    shown = [("时间", flow.text("when")), ("地点", flow.text("where")), ("涉及", flow.text("who"))]
    return [f"{label}：{value}" for label, value in shown if value]


async def _summary(turn: Turn) -> str:
    what = turn.flow.text("what")
    what = what if len(what) <= SHOWN else what[:SHOWN] + "…"
    lines = [f"您要投诉：{what}"]
    if details := _details(turn):
        lines.append("；".join(details))
    lines.append("对吗？回复“对”转给社区工作人员，要补充直接说。")
    return "\n".join(lines)


def _description(turn: Turn) -> str:
    """What happened as said, with the time and person when they are not in it already."""
    what = turn.flow.text("what")
    extra = [d for d in _details(turn) if d.split("：", 1)[1] not in what]
    return "；".join([what, *extra])


async def file_complaint(turn: Turn) -> None:
    """A complaint ticket to staff with the recent conversation attached; tell the resident."""
    ctx, flow = turn.ctx, turn.flow
    history = await recent_history(ctx.session, ctx.conversation.id, ctx.message_id)
    filed = await open_ticket(
        ctx.session,
        ctx.services,
        category="complaint",
        location=flow.text("where") or None,
        description=mask_text(_description(turn))[:MAX_WHAT],
        reporter=ctx.resident,
        now=ctx.now,
        actor=f"resident:{ctx.resident.id}",
        conversation_id=ctx.conversation.id,
        source_message_id=ctx.message_id,
        details={"history": history},
    )
    ticket = filed.ticket
    turn.remember("ticket", str(ticket.number))
    ctx.action = f"complaint:{ticket.number}"
    await announce(ctx.session, ctx.services, filed, ctx.resident)
    rule = ctx.services.categories.get("complaint")
    within = f"，会在{max(1, rule.accept_minutes // 60)}小时内联系您" if rule else ""
    who = f"工作人员{filed.assignee.name}" if filed.assignee else "社区工作人员"
    ctx.reply(
        f"您的投诉已记录，工单号 {ticket.number}。\n已转给{who}处理{within}。"
        f"想了解进度，发送“查询 {ticket.number}”即可。"
    )


_WORRY = re.compile(r"影响|报复|穿小鞋|知道是我|保密|匿名|记恨|不给.{0,4}服务")
_WHEN_ANSWERED = re.compile(r"多久|多长时间|什么时候|啥时候|几天|有没有用|有用吗|管用")


def _answers(turn: Turn) -> str | None:
    """Questions about complaining itself: will it count against us, when will someone call."""
    plain = normalize(turn.text).text
    if _WORRY.search(plain):
        return "请放心，投诉不会影响您家的服务，内容只给社区工作人员看，会为您保密。"
    if _WHEN_ANSWERED.search(plain):
        rule = turn.ctx.services.categories.get("complaint")
        hours = max(1, rule.accept_minutes // 60) if rule else 2
        return f"投诉提交后，工作人员会在{hours}小时内联系您。"
    return None


def recognises(text: str) -> bool:
    """A message that says it is a complaint (我要投诉, 投訴一下), not a question about one."""
    plain = normalize(text).text
    return "投诉" in plain and not is_question(plain)


def _file_on_silence(turn: Turn) -> OnSilence | None:
    """A complaint told and left at the confirmation still reaches staff (rule 5)."""
    if not turn.flow.get("what"):
        return None
    return OnSilence("complaint", turn.flow.text("where") or None)


COMPLAINT = Form(
    title="投诉",
    name="complaint",
    intents=("complain",),
    slots=(
        Slot("what", "经过", _ask_what, extract=(_what,), when_asked=(_what_answer,)),
        Slot("when", "时间", "什么时候的事？比如：周三上午。", (_when_slot,), required=never),
        Slot("where", "地点", "在哪里？比如：社区服务站。", (_where_slot,), required=never),
        Slot("who", "涉及的人", "是哪位？比如：网格员。", (_who_slot,), required=never),
    ),
    complete=file_complaint,
    summary=_summary,
    withdrawn="好的，不投诉了。还有需要随时告诉我。",
    silence=_file_on_silence,
    answers=_answers,
    recognises=recognises,
)
