"""General engine behaviour on a small form of its own (no service's wording involved)."""

from __future__ import annotations

from pathlib import Path

from handlers.engine.details import is_question
from handlers.engine.forms import Form, Slot
from handlers.engine.turn import Turn
from handlers.registry import Registry
from tests.dialog import Dialog

DONE: list[dict[str, object]] = []


def _note(turn: Turn) -> str | None:
    text = turn.text.strip()
    return text if len(text) >= 2 and not is_question(text) else None


def _room(turn: Turn) -> str | None:
    return "302" if "302" in turn.text else None


async def _summary(turn: Turn) -> str:
    return f"{turn.flow.text('note')} {turn.flow.text('room')}。对吗？"


async def _complete(turn: Turn) -> None:
    DONE.append(dict(turn.flow.values))
    turn.ctx.action = "noted"
    turn.ctx.reply("好的。")


def _answers(turn: Turn) -> str | None:
    return "不收费。" if "钱" in turn.text else None


NOTE_FORM = Form(
    name="note",
    intents=("take_note",),
    slots=(
        Slot("note", "内容", "说说什么事？比如：门坏了。", when_asked=(_note,)),
        Slot("room", "房间", "哪个房间？", extract=(_room,), required=lambda t: False),
    ),
    complete=_complete,
    summary=_summary,
    answers=_answers,
)


def _registry() -> Registry:
    registry = Registry()
    registry.add_form(NOTE_FORM)
    return registry


async def test_a_yes_after_what_the_summary_asked_for_completes(tmp_path: Path) -> None:
    DONE.clear()
    async with Dialog.open(tmp_path) as chat:
        chat.registry = _registry()
        await chat.say("记一下", "take_note")
        await chat.say("门坏了", "out_of_scope", 0.2)
        assert chat.action == "note_confirm"
        await chat.say("在302 对", "out_of_scope", 0.2)
        assert chat.action == "noted"
        assert DONE == [{"note": "门坏了", "room": "302"}]


async def test_a_question_the_form_knows_is_answered_and_the_request_resumes(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        chat.registry = _registry()
        await chat.say("记一下", "take_note")
        await chat.say("要交钱不？", "out_of_scope", 0.3)
        assert chat.action == "note_question"
        assert chat.replies[-1].startswith("不收费。") and "说说什么事" in chat.replies[-1]
        await chat.say("周末开不开？", "out_of_scope", 0.3)
        assert "答不准" in chat.replies[-1]
