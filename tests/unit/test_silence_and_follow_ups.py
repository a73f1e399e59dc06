"""Rule 5 (silence never loses a report) and rule 6 (the item just made is remembered)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.messages import Message
from storage.pending import PendingRequest
from storage.tickets import Ticket, TicketEvent
from tests.dialog import Dialog


async def _tickets(chat: Dialog) -> list[Ticket]:
    return await chat.scalars(select(Ticket).order_by(Ticket.id))


async def _pushes(chat: Dialog, action: str) -> list[Message]:
    stmt = select(Message).where(Message.direction == "out", Message.action.startswith(action))
    return await chat.scalars(stmt)


async def test_a_report_left_at_its_confirmation_is_followed_up_then_filed(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("南关路加油站往北那段路灯坏了", "report_streetlight", location="南关路")
        assert chat.action == "report_confirm"
        await chat.wait(25)
        assert len(await _pushes(chat, "silence_follow_up")) == 1
        assert await _tickets(chat) == []
        await chat.wait(20)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "streetlight"
        assert ticket.location is not None and "南关路" in ticket.location
        assert len(await _pushes(chat, "silence_filed:")) == 1
        await chat.wait(60)  # nothing twice
        assert len(await _tickets(chat)) == 1


async def test_one_long_silence_files_at_once(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("路灯又坏了 黑灯瞎火的", "report_streetlight")
        await chat.wait(60)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "streetlight"


async def test_coming_back_after_the_filing_does_not_file_twice(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷路灯坏了", "report_streetlight", location="东关中巷")
        await chat.wait(60)
        await chat.say("对", "affirm")
        assert len(await _tickets(chat)) == 1
        assert await chat.scalars(select(PendingRequest)) == []


async def test_a_withdrawn_report_is_not_filed_by_the_silence(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "安康小区5号楼后面的路灯不亮", "report_streetlight", location="安康小区5号楼"
        )
        await chat.say("好吧 那先不弄了 我问问物业再说", "affirm")
        await chat.wait(60)
        assert await _tickets(chat) == []


async def test_a_detail_after_the_ticket_is_added_to_its_history(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷的路灯坏了", "report_streetlight", location="东关中巷")
        await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        await chat.say("补充一下 是二楼拐角那盏", "report_streetlight", 0.8)
        assert chat.action == f"ticket_note:{ticket.number}"
        notes = await chat.scalars(
            select(TicketEvent.note).where(TicketEvent.kind == "resident_note")
        )
        assert notes == ["补充一下 是二楼拐角那盏"]
        await chat.say("大概啥时候能弄好", "check_status", 0.6)
        assert chat.action == f"item_status:{ticket.number}"
        assert "3天" in chat.replies[0]
        assert len(await _tickets(chat)) == 1


async def test_news_after_a_gas_ticket_reaches_it_and_reassures(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷3号楼煤气味好大", "report_gas", location="东关中巷3号楼")
        (ticket,) = await _tickets(chat)
        await chat.say("人都出来了", "out_of_scope", 0.4)
        assert chat.action == f"ticket_note:{ticket.number}"
        assert "安全" in chat.replies[0]


async def test_a_bare_yes_after_a_gas_ticket_is_no_news(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷3号楼煤气味好大", "report_gas", location="东关中巷3号楼")
        (ticket,) = await _tickets(chat)
        for text in ("1", "好的", "嗯嗯"):
            await chat.say(text, "affirm", 0.9)
            assert chat.action == f"item_ok:{ticket.number}"
            assert "安全" in chat.replies[0]
        assert await _pushes(chat, "ticket_note_pushed") == []
        notes = await chat.scalars(select(TicketEvent).where(TicketEvent.kind == "resident_note"))
        assert notes == []


async def test_a_sure_request_after_a_gas_ticket_is_its_own_request(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷3号楼煤气味好大", "report_gas", location="东关中巷3号楼")
        (ticket,) = await _tickets(chat)
        await chat.say("燃气公司的人怎么还没来", "complain", 0.9)
        assert chat.action == f"ticket_note:{ticket.number}"  # chasing it is about it
        await chat.say("另外我想给我爸约个康复训练", "book_rehab", 0.95)
        assert not chat.action.startswith("ticket_note"), chat.action
        notes = await chat.scalars(
            select(TicketEvent.note).where(TicketEvent.kind == "resident_note")
        )
        assert notes == ["燃气公司的人怎么还没来"]


async def test_the_same_problem_somewhere_else_is_a_new_report(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷的路灯坏了", "report_streetlight", location="东关中巷")
        await chat.say("对", "affirm")
        await chat.say("安康小区5号楼的路灯也坏了", "report_streetlight", location="安康小区5号楼")
        assert chat.action == "report_confirm"


async def test_the_follow_up_names_the_request_left_waiting(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想约个康复训练", "book_rehab")
        await chat.wait(25)
        (push,) = await _pushes(chat, "silence_follow_up")
        assert "康复预约" in (push.text or "")


def test_every_form_says_what_it_is_called() -> None:
    from handlers.modules import default_registry

    forms = default_registry().engine.forms
    assert {name for name, form in forms.items() if not form.title} == set()
