"""An urgent report in the middle of another request is filed first; then the request goes on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from handlers.engine.state import Dialogue
from storage.tickets import Ticket
from tests.dialog import Dialog


async def _categories(chat: Dialog) -> list[str]:
    return [t.category for t in await chat.scalars(select(Ticket).order_by(Ticket.id))]


async def test_the_interrupted_request_resumes_after_the_urgent_ticket(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷的路灯坏了", "report_streetlight", location="东关中巷")
        assert chat.action == "report_confirm"
        await chat.say("哎 楼道里一股煤气味 就在3号楼2单元", "report_gas", 0.99)
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        assert "接着办" in chat.replies[-1] and "东关中巷" in chat.replies[-1]
        assert Dialogue.load(chat.state).flow is not None
        await chat.say("路灯那个也帮我报上 对", "report_streetlight", 0.4)
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        assert await _categories(chat) == ["gas", "streetlight"]
        dialogue = Dialogue.load(chat.state)
        assert dialogue.flow is None and dialogue.paused is None


async def test_the_interrupted_request_waits_while_the_urgent_one_asks_its_place(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("路灯坏了", "report_streetlight")
        await chat.say("楼道里好大煤气味", "report_gas", 0.99)
        assert chat.action == "gas_ask_location"
        assert Dialogue.load(chat.state).paused is not None
        await chat.say("东关中巷3号楼2单元", "report_gas", 0.6, location="东关中巷3号楼")
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        assert "接着办" in chat.replies[-1]
        await chat.say("就在安康小区东门", "report_streetlight", location="安康小区东门")
        assert chat.action == "report_confirm"
        await chat.say("对", "affirm")
        assert await _categories(chat) == ["gas", "streetlight"]


async def test_a_hand_off_drops_the_interrupted_request(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("路灯坏了", "report_streetlight")
        await chat.say("楼道里好大煤气味", "report_gas", 0.99)
        await chat.say("转人工", "human_handoff", 0.96)
        assert Dialogue.load(chat.state).paused is None


async def test_a_question_answered_elsewhere_chooses_no_option(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想找份工作 我腿有残疾", "seek_job")
        assert chat.action == "job_ask_what"
        await chat.say("残疾人就业有啥扶持政策？", "faq/employment_policy", 0.99)
        assert chat.action == "faq:employment_policy"
        assert "想找什么样的活" in chat.replies[-1]
        await chat.say("想干手工活 电话13533331111", "seek_job", 0.7)
        assert chat.action == "job_confirm"
        assert "手工活" in chat.replies[-1]
