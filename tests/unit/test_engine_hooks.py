"""Engine hooks: a form answers questions from its own data; async extractors; a correction
filling a piece shown by default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from handlers.context import Context
from handlers.engine.forms import Form, Slot
from handlers.engine.runner import Engine
from handlers.engine.state import Dialogue
from handlers.engine.turn import Turn
from nlu.client import ParseResult

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _ctx(text: str, intent: str | None, state: dict[str, Any], confidence: float = 0.9) -> Context:
    parse = None if intent is None else ParseResult(text, intent, confidence, ())
    return Context(
        session=cast(Any, None),
        services=cast(Any, None),
        conversation=cast(Any, None),
        resident=cast(Any, None),
        message_id=1,
        text=text,
        parse=parse,
        now=NOW,
        state=state,
    )


def _color(turn: Turn) -> str | None:
    for color in ("红", "蓝"):
        if color in turn.text:
            return color
    return None


async def _summary(turn: Turn) -> str:
    return f"{turn.flow.text('color')}色，对吗？"


async def _done(turn: Turn) -> None:
    turn.ctx.action = "painted"
    turn.remember("order", "P1")


async def _answers(turn: Turn) -> str | None:
    return "两种颜色都免费。" if "钱" in turn.text else None


def _paint(**hooks: Any) -> Form:
    slots = (Slot("color", "颜色", "刷什么颜色？比如：红色。", extract=(_color,)),)
    return Form("paint", ("paint",), slots, _done, summary=_summary, **hooks)


async def _nothing(ctx: Context) -> None:
    ctx.reply("(other)")


async def test_a_question_with_a_slot_is_answered_before_the_next_question() -> None:
    engine = Engine([_paint(answers=_answers)])
    ctx = _ctx("刷红色 要钱吗", "paint", {})
    await engine.start(ctx, engine.forms["paint"])
    assert ctx.replies == ["两种颜色都免费。", "红色，对吗？"]


async def test_a_question_in_the_middle_is_answered_and_the_request_resumes() -> None:
    engine = Engine([_paint(answers=_answers)])
    state: dict[str, Any] = {}
    await engine.start(_ctx("我想刷墙", "paint", state), engine.forms["paint"])
    ctx = _ctx("要交钱不？", "faq", state, confidence=0.2)
    assert await engine.take(ctx, _nothing)
    assert ctx.action == "paint_question"
    assert ctx.replies == ["两种颜色都免费。\n刷什么颜色？比如：红色。"]
    assert Dialogue.load(ctx.state).flow is not None


async def test_a_question_the_form_cannot_answer_is_said_so() -> None:
    engine = Engine([_paint(answers=_answers)])
    state: dict[str, Any] = {}
    await engine.start(_ctx("我想刷墙", "paint", state), engine.forms["paint"])
    ctx = _ctx("几点来？", "faq", state, confidence=0.2)
    assert await engine.take(ctx, _nothing)
    assert ctx.action == "paint_question" and "答不准" in ctx.replies[0]


async def test_an_extractor_may_look_things_up() -> None:
    async def size(turn: Turn) -> str | None:
        return "大" if "大" in turn.text else None

    slots = (Slot("size", "尺寸", "多大？比如：大的。", extract=(size,)),)
    engine = Engine([Form("cup", ("cup",), slots, _done, summary=_summary)])
    ctx = _ctx("要个大杯子", "cup", {})
    await engine.start(ctx, engine.forms["cup"])
    assert Dialogue.load(ctx.state).flow.values == {"size": "大"}  # type: ignore[union-attr]


async def test_a_correction_that_fills_a_piece_shown_by_default_changes_it() -> None:
    def who(turn: Turn) -> str | None:
        return "老伴" if "老伴" in turn.text else None

    async def summary(turn: Turn) -> str:
        return f"{turn.flow.text('color')}色，给{turn.flow.text('who') or '您本人'}，对吗？"

    slots = (
        Slot("color", "颜色", "刷什么颜色？比如：红色。", extract=(_color,)),
        Slot("who", "为谁", "给谁？", extract=(who,), required=lambda turn: False),
    )
    engine = Engine([Form("paint", ("paint",), slots, _done, summary=summary)])
    state: dict[str, Any] = {}
    await engine.start(_ctx("刷红色", "paint", state), engine.forms["paint"])
    ctx = _ctx("不是我 是我老伴", "deny", state)
    assert await engine.take(ctx, _nothing)
    assert ctx.action == "paint_confirm" and "给老伴" in ctx.replies[-1]
