"""The report forms: a problem and its place, confirmed (urgent: filed at once), then a ticket.

Three forms share the slots: `report` (street lights, rubbish, roads, water, noise), `gas`
(safety advice first, no confirmation round-trip) and `mediation` (a dispute between
neighbours, routed by config.yml).
"""

from __future__ import annotations

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


CORRECT_CATEGORY = 0.5  # a correction this sure of another problem changes it
CHANGE_CATEGORY = 0.8  # any later message this sure of another problem changes it


def _category(turn: Turn) -> SlotValue:
    """The category the message's report intent files under (config.yml report_intents)."""
    known = turn.flow.values.get("category")
    if known:  # the first reading stands unless a later one is sure (the summary shows it)
        needed = CORRECT_CATEGORY if turn.focus is not None else CHANGE_CATEGORY
        if turn.confidence < needed or is_question(turn.text):
            return None
    intent = turn.intent or ""
    if intent == "request_mediation":
        return MEDIATION
    return turn.ctx.services.report_intents.get(intent) or None


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


def _report_form(name: str, title: str, intents: tuple[str, ...]) -> Form:
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
    )


FORMS = (
    _report_form("report", "报修", REPORT_INTENTS),
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
