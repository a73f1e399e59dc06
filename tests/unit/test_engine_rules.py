"""General engine rules, on a toy form next to the standard ones (recorded parses, no Rasa).

A yes before a hand-off or an urgent report; the place an urgent report keeps; a yes or a
no that carries a new value; a policy question the NLU was unsure of; a message the NLU
was unsure of that names a service; words about the item just made.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from sqlalchemy import select

from handlers.context import Context
from handlers.engine.forms import Form, Slot
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.modules import default_registry
from handlers.registry import intent
from handlers.reports.places import place_in
from storage.tickets import Ticket
from tests.dialog import Dialog


def _thing(turn: Turn) -> SlotValue:
    return next((word for word in ("灯", "椅子") if word in turn.text), None)


async def _summary(turn: Turn) -> str:
    return f"借{turn.flow.text('thing')}，送到{turn.flow.text('location')}。对吗？"


async def _lend(turn: Turn) -> None:
    turn.ctx.action = "toy_lent"
    turn.ctx.reply(f"借好了：{turn.flow.text('thing')}")
    turn.remember("toy", "T1")


TOY = Form(
    name="toy",
    intents=("request_toy",),
    slots=(
        Slot("thing", "东西", "借什么？比如：灯。", extract=(_thing,)),
        Slot("location", "地点", "送到哪里？比如：东关中巷3号楼。", extract=(place_in,)),
    ),
    complete=_lend,
    summary=_summary,
    questions=(("micro_wish", ("心愿",)),),
    recognises=lambda text: "借东西" in text,
)


@intent("item:toy")
async def _about_the_toy(ctx: Context) -> bool:
    ctx.action = "toy_note"
    ctx.reply("记下了")
    return True


def _toy_module() -> ModuleType:
    module = ModuleType("toy")
    module.FORMS = (TOY,)  # type: ignore[attr-defined]
    module.about_the_toy = _about_the_toy  # type: ignore[attr-defined]
    return module


def _chat_with_toy(chat: Dialog) -> Dialog:
    registry = default_registry()
    registry.add_module(_toy_module())
    chat.registry = registry
    return chat


async def _tickets(chat: Dialog) -> list[Ticket]:
    return await chat.scalars(select(Ticket).order_by(Ticket.id))


async def test_a_yes_that_asks_for_a_person_completes_the_request_first(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("借个灯 送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        assert chat.action == "toy_confirm"
        replies = await chat.say("好的 麻烦让工作人员联系我", "human_handoff", 0.85)
        assert "借好了：灯" in replies[0]
        assert chat.action == "handoff"


async def test_an_urgent_report_keeps_the_place_already_said(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        assert chat.action == "toy_ask_thing"
        await chat.say("刚才闻到一股煤气味", "report_gas", 0.95)
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "gas" and "东关中巷3号楼" in (ticket.location or "")


async def test_a_yes_at_the_confirmation_before_an_urgent_report_keeps_both(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("借个灯 送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        replies = await chat.say(
            "对 还有个事 幸福里小区5号楼一股煤气味", "report_gas", 0.95, location="幸福里小区5号楼"
        )
        assert "借好了：灯" in replies[0]
        (ticket,) = await _tickets(chat)
        assert ticket.category == "gas" and ticket.location == "幸福里小区5号楼"


async def test_a_yes_with_a_new_value_completes_with_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("借个灯 送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        replies = await chat.say("对 借椅子吧", "affirm")
        assert chat.action == "toy_lent" and replies == ["借好了：椅子"]


async def test_a_no_that_gives_the_new_value_confirms_it_again(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("借个灯 送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        replies = await chat.say("不 借椅子", "deny")
        assert chat.action == "toy_confirm" and "借椅子" in replies[-1]


async def test_a_policy_question_the_nlu_was_unsure_of_is_answered_then_resumed(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        replies = await chat.say("微心愿是什么意思？", "deny", 0.3)
        assert chat.action == "faq:micro_wish"
        assert replies[-1].startswith("借什么？")
        await chat.say("灯", None)
        assert chat.action == "toy_confirm"


async def test_a_message_the_nlu_was_unsure_of_starts_the_service_it_names(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("想借东西 一个灯", "out_of_scope", 0.2)
        assert chat.action == "toy_ask_location"
        await chat.say("随便说说", "out_of_scope", 0.2)
        assert chat.action != "menu"


async def test_words_after_the_item_go_to_the_service_that_made_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_toy(opened)
        await chat.say("借个灯 送到东关中巷3号楼", "request_toy", location="东关中巷3号楼")
        await chat.say("对", "affirm")
        assert chat.action == "toy_lent"
        await chat.say("放门口就行", "affirm", 0.2)
        assert chat.action == "toy_note"
