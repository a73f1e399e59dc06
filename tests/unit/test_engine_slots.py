"""Engine rules for dependent slots, on a toy form next to the standard ones (no Rasa).

An async extractor (one that looks things up); a slot whose change empties the slots that
depend on it; a request that reads its answers its own way; a completion that finds its
choice gone and asks again; a yes said with the answer to the last choice shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from sqlalchemy import select

from handlers.engine.answers import Answer, AnswerKind, read_answer
from handlers.engine.choices import Option
from handlers.engine.forms import Form, Slot, never
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.modules import default_registry
from storage.tickets import TicketEvent
from tests.dialog import Dialog

DAYS = {"周一": "mon", "周二": "tue"}
TAKEN: set[str] = set()  # times another resident takes meanwhile


async def _day(turn: Turn) -> SlotValue:
    return next((key for word, key in DAYS.items() if word in turn.text), None)


async def _times(turn: Turn) -> Sequence[Option]:
    day = turn.flow.text("day")
    if not day:
        return ()
    return (Option(f"{day}-am", f"{day} 上午"), Option(f"{day}-pm", f"{day} 下午"))


def _floor(turn: Turn) -> SlotValue:
    found = re.search(r"(\d+)楼", turn.text)
    return found.group(1) if found else None


async def _summary(turn: Turn) -> str:
    floor = turn.flow.text("floor")
    return f"取件：{turn.flow.text('time')}{f'，送到{floor}楼' if floor else ''}。对吗？"


async def _fetch(turn: Turn) -> None:
    chosen = turn.flow.text("time")
    if chosen in TAKEN:
        turn.flow.values.pop("time")
        turn.ctx.reply("这个时间刚被约走了。")
        return
    turn.ctx.action = f"parcel_booked:{chosen}"


def _agreeing_with_drop(turn: Turn) -> Answer:
    """A toy cancellation: "不要了" agrees with it."""
    if "不要了" in turn.text and turn.flow.asking == "confirm":
        return Answer(AnswerKind.YES)
    return read_answer(turn.text, turn.intent, turn.confidence)


PARCEL = Form(
    choice_with_yes_completes=True,
    name="parcel",
    intents=("request_parcel",),
    slots=(
        Slot("day", "日子", "哪天？比如：周一。", extract=(_day,), resets=("time",)),
        Slot("time", "时间", "几点？", options=_times),
        Slot("floor", "楼层", "几楼？", extract=(_floor,), required=never, refine=True),
    ),
    complete=_fetch,
    summary=_summary,
    read_answer=_agreeing_with_drop,
)


def _chat_with_parcel(chat: Dialog) -> Dialog:
    module = ModuleType("parcel")
    module.FORMS = (PARCEL,)  # type: ignore[attr-defined]
    registry = default_registry()
    registry.add_module(module)
    chat.registry = registry
    return chat


async def test_an_async_extractor_fills_and_a_change_empties_what_depends_on_it(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        assert chat.action == "parcel_ask_time"
        await chat.say("下午", "inform", 0.3)
        assert chat.action == "parcel_confirm"
        assert "mon-pm" in chat.replies[-1]
        await chat.say("不对 是周二", "deny")
        assert chat.action == "parcel_ask_time"  # the time chosen for Monday is gone
        assert "tue 上午" in chat.replies[-1]


async def test_a_yes_with_the_choice_shown_completes_without_another_round(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("下午的 对", "affirm", 0.8)
        assert chat.action == "parcel_booked:mon-pm"


async def test_a_yes_with_a_piece_not_shown_is_confirmed_first(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递", "request_parcel")
        assert chat.action == "parcel_ask_day"
        await chat.say("嗯 周二", "affirm", 0.8)  # no choice was shown: ask, then confirm
        assert chat.action == "parcel_ask_time"


async def test_the_form_reads_its_own_answers(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("上午", "inform", 0.3)
        await chat.say("嗯 不要了", "deny", 0.6)  # read_answer alone: a withdrawal
        assert chat.action == "parcel_booked:mon-am"


async def test_a_choice_gone_at_the_completion_is_asked_again(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周二", "request_parcel")
        await chat.say("上午", "inform", 0.3)
        TAKEN.add("tue-am")
        try:
            await chat.say("对", "affirm")
        finally:
            TAKEN.clear()
        assert chat.replies[0] == "这个时间刚被约走了。"
        assert chat.action == "parcel_ask_time"
        await chat.say("下午", "inform", 0.3)
        assert chat.action == "parcel_confirm"


async def test_a_refined_slot_takes_a_later_value_unasked(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一 送3楼", "request_parcel")
        await chat.say("下午 哦不 是5楼", "inform", 0.3)  # the time asked, the floor refined
        assert chat.action == "parcel_confirm" and "送到5楼" in chat.replies[-1]


async def test_a_number_picks_an_option_and_is_no_yes(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("2")  # the bot's own numbers skip the NLU
        assert chat.action == "parcel_confirm" and "mon-pm" in chat.replies[-1]


async def test_a_request_an_urgent_report_interrupted_is_taken_up_again(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("上午", "inform", 0.3)
        assert chat.action == "parcel_confirm"
        await chat.say("楼道里一股煤气味 东关中巷3号楼", "report_gas", location="东关中巷3号楼")
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        await chat.say("快递那个 周一上午 对", "request_parcel", 0.4)
        assert chat.action == "parcel_booked:mon-am"


async def test_a_withdrawn_request_is_taken_up_by_words_of_coming_back(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("算了 先不弄了", "deny")
        assert chat.action == "parcel_withdrawn"
        await chat.say("哎 等等 还是要取 下午的", "inform", 0.2)
        assert chat.action == "parcel_confirm" and "mon-pm" in chat.replies[-1]


async def test_a_withdrawn_request_started_again_starts_afresh(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("算了 先不弄了", "deny")
        await chat.say("取个快递", "request_parcel")
        assert chat.action == "parcel_ask_day"  # Monday was withdrawn with it


async def test_news_for_the_urgent_ticket_in_the_request_that_went_on_reaches_the_ticket(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as opened:
        chat = _chat_with_parcel(opened)
        await chat.say("取个快递 周一", "request_parcel")
        await chat.say("楼道里一股煤气味 东关中巷3号楼", "report_gas", location="东关中巷3号楼")
        await chat.say("窗户开了 阀门也关了", "report_gas", 0.21)
        assert chat.action is not None and chat.action.startswith("ticket_note:")
        assert "几点" in chat.replies[-1]  # the parcel's question again
        events = await chat.scalars(select(TicketEvent).where(TicketEvent.kind == "resident_note"))
        assert [e.note for e in events] == ["窗户开了 阀门也关了"]
