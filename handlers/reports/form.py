"""The report forms: a problem and its place, confirmed (urgent: filed at once), then a ticket.

Three forms share the slots: `report` (street lights, rubbish, roads, water, noise), `gas`
(safety advice first, no confirmation round-trip) and `mediation` (a dispute between
neighbours, routed by config.yml).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers.engine.answers import AnswerKind, read_answer
from handlers.engine.details import is_question
from handlers.engine.forms import Form, OnSilence, Slot
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.reports.places import corrected_place, place_answer, place_in
from handlers.ticket_notices import announce
from storage.ticket_flow import open_ticket

GAS_ADVICE = (
    "【燃气安全提醒】请立即开窗通风，不要开关电灯电器、不要用明火、不要在室内打电话，"
    "尽快离开到室外安全处，并拨打燃气抢修电话。"
)
REPORT_INTENTS = (
    "report_streetlight",
    "report_sanitation",
    "report_road",
    "report_water",
    "report_noise",
)
MEDIATION = "mediation"
OTHER = "other"


CORRECT_CATEGORY = 0.5  # a correction this sure of another problem changes it
CHANGE_CATEGORY = 0.8  # any later message this sure of another problem changes it


# Something broken that no report category covers (an elevator, a door, railings): the NLU
# has no intent for it and reads it weakly as one of the others. Filed under `other`.
BROKEN = re.compile(
    r"坏了|坏掉|坏的|损坏|不能用|用不了|没法用|不好使|不管用|失灵|松了|松动|掉了|碎了|塌了|"
    r"裂了|裂缝|断了|歪了|卡住|关不上|打不开|刷不开|锁不上|漏雨|困在|停运|不转了"
)
# The words a weak reading of a category must be backed by, else the problem is `other`.
CATEGORY_WORDS = {
    "streetlight": ("灯",),
    "sanitation": ("垃圾", "脏", "广告", "杂物", "堆", "臭", "卫生", "清理", "打扫", "狗屎"),
    "road": ("路", "坑", "井盖", "砖", "地面", "台阶", "坡"),
    "water": ("水", "漏", "堵", "管道", "管子"),
    "noise": ("吵", "噪", "响", "声", "装修", "广场舞", "喇叭"),
}


def names_problem(text: str) -> bool:
    """The text says something is broken (for a message the NLU was unsure of)."""
    return BROKEN.search(text) is not None and not is_question(text)


def _category(turn: Turn) -> SlotValue:
    """The category the message's report intent files under (config.yml report_intents).

    A weak reading not backed by the category's own words, of a message saying something
    is broken, files under `other` (电梯坏了 read weakly as a street light).
    """
    known = turn.flow.values.get("category")
    if known:  # the first reading stands unless a later one is sure (the summary shows it)
        needed = CORRECT_CATEGORY if turn.focus is not None else CHANGE_CATEGORY
        if turn.confidence < needed or is_question(turn.text):
            return None
    intent = turn.intent or ""
    if intent == "request_mediation":
        return MEDIATION
    category = turn.ctx.services.report_intents.get(intent) or None
    if known or turn.confidence >= turn.ctx.services.min_confidence:
        return category
    text = turn.text
    if category is not None and any(w in text for w in CATEGORY_WORDS.get(category, ())):
        return category
    if names_problem(text):
        said = (c for c, words in CATEGORY_WORDS.items() if any(w in text for w in words))
        return next(said, OTHER)
    return category


def _label(turn: Turn) -> str:
    category = turn.flow.text("category")
    return turn.ctx.services.category_labels.get(category, "问题")


async def _ask_place(turn: Turn) -> str:
    if turn.flow.text("category") == "gas":
        return "请马上告诉我具体位置，比如：某某小区3号楼2单元。燃气工单会立刻推送给抢修人员。"
    if turn.flow.misunderstood or turn.flow.said[1:]:
        return "请告诉我具体位置，比如：光华社区12号楼3单元门口。"
    return f"好的，帮您报【{_label(turn)}】。在哪个位置？比如：某某小区3号楼门口。"


async def _summary(turn: Turn) -> str:
    place = turn.flow.text("location")
    return f"【{_label(turn)}】{place}。对吗？\n回复“对”提交，地点不对直接告诉我。"


def _description(turn: Turn) -> str:
    """What the resident said about the problem: every message but bare yes/no answers."""
    kept = []
    for text in turn.flow.said:
        answer = read_answer(text)
        if answer.kind in (AnswerKind.YES, AnswerKind.NO) and not answer.rest:
            continue
        kept.append(text)
    return " ".join(kept)[:1000]


async def file_report(turn: Turn) -> None:
    """File the report (or join the open ticket of the same problem) and tell the resident."""
    ctx = turn.ctx
    location = turn.flow.text("location")
    category = turn.flow.text("category") or "other"
    filed = await open_ticket(
        ctx.session,
        ctx.services,
        category=category,
        location=location,
        description=_description(turn),
        reporter=ctx.resident,
        now=ctx.now,
        actor=f"resident:{ctx.resident.id}",
        conversation_id=ctx.conversation.id,
        source_message_id=ctx.message_id,
    )
    ticket, label = filed.ticket, _label(turn)
    turn.remember("ticket", str(ticket.number))
    if filed.merged:
        ctx.action = f"ticket_linked:{ticket.number}"
        ctx.reply(
            f"这个问题已经有居民反映过，正在处理（工单号 {ticket.number}）。\n有进展会同时告诉您。"
        )
        return
    await announce(ctx.session, ctx.services, filed, ctx.resident)
    ctx.action = f"ticket_created:{ticket.number}"
    rule = ctx.services.categories.get(category)
    worker = filed.assignee
    who = f"已派给{worker.name}" if worker else "社区会安排人处理"
    when = f"，一般{rule.resolve_within()}内处理" if rule else ""
    ctx.reply(f"已登记【{label}】{location}，工单号 {ticket.number}。\n{who}{when}，有进展告诉您。")


async def _gas_first(turn: Turn) -> None:
    turn.ctx.reply(GAS_ADVICE)


def _file_on_silence(turn: Turn) -> OnSilence | None:
    """A report left in the middle is filed with what was said (rule 5)."""
    category = turn.flow.text("category")
    return OnSilence(category, turn.flow.text("location") or None) if category else None


def _slots() -> tuple[Slot, ...]:
    return (
        Slot("category", "问题", "您要反映什么问题？比如：路灯不亮。", extract=(_category,)),
        Slot(
            "location",
            "地点",
            _ask_place,
            extract=(place_in,),
            when_asked=(place_answer,),
            merge=corrected_place,
        ),
    )


def _report_form(
    name: str, title: str, intents: tuple[str, ...], recognises: Callable[[str], bool] | None = None
) -> Form:
    return Form(
        name=name,
        title=title,
        intents=intents,
        slots=_slots(),
        complete=file_report,
        summary=_summary,
        withdrawn="好的，这件事先不报了。还有需要随时告诉我。",
        silence=_file_on_silence,
        lenient_start=True,  # the summary names the problem: a wrong guess is corrected there
        recognises=recognises,
    )


FORMS = (
    _report_form("report", "报修", REPORT_INTENTS, recognises=names_problem),
    _report_form(MEDIATION, "纠纷调解", ("request_mediation",)),
    Form(
        name="gas",
        title="燃气报警",
        intents=("report_gas",),
        slots=_slots(),
        complete=file_report,
        summary=None,  # urgent: filed the moment the place is known
        on_start=_gas_first,
        silence=_file_on_silence,
        withdrawn="好的，先不报了。如果再闻到燃气味，请马上开窗、离开，并告诉我。",
    ),
)
