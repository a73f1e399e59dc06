"""Report, gas and mediation forms on the engine, with recorded parses (no Rasa, no web)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.tickets import Ticket
from tests.dialog import Dialog


async def _tickets(chat: Dialog) -> list[Ticket]:
    return await chat.scalars(select(Ticket).order_by(Ticket.id))


async def test_the_conversation_md_example_files_one_ticket_with_the_place_in_full(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我们院里那个灯又不亮了 黑灯瞎火的", "report_streetlight")
        assert chat.action == "report_ask_location"
        await chat.say("光华社区12号楼3单元门口 就上礼拜刚修过", "report_streetlight")
        assert chat.action == "report_confirm"
        assert "光华社区12号楼3单元门口" in chat.replies[0]
        await chat.say("对对 谢谢啊 老人晚上都不敢出门", "thank")
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "streetlight"
        assert ticket.location is not None and "光华社区12号楼3单元门口" in ticket.location
        assert "上礼拜刚修过" in (ticket.description or "")


async def test_a_yes_with_words_files_and_thanks_alone_does_not_drop_the_report(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷的路灯坏了", "report_streetlight", location="东关中巷")
        assert chat.action == "report_confirm"
        await chat.say("谢谢", "thank")
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        assert len(await _tickets(chat)) == 1


async def test_a_correction_at_the_confirmation_changes_the_piece_and_confirms_again(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("安康小区东门的路灯不亮", "report_streetlight", location="安康小区东门")
        await chat.say("不是东门，是西门", "deny")
        assert chat.action == "report_confirm"
        assert "安康小区西门" in chat.replies[-1]
        await chat.say("嗯 对", "affirm")
        (ticket,) = await _tickets(chat)
        assert ticket.location is not None
        assert "西门" in ticket.location and "东门" not in ticket.location


async def test_a_withdrawal_ends_the_report_and_says_so(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "安康小区5号楼后面的路灯不亮", "report_streetlight", location="安康小区5号楼"
        )
        await chat.say("好吧 那先不弄了 我问问物业再说", "affirm")
        assert chat.action == "report_withdrawn"
        assert "不报" in chat.replies[0]
        assert await _tickets(chat) == []


async def test_gas_gets_advice_and_a_ticket_without_a_confirmation(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("楼道里一股煤气味", "report_gas")
        assert "燃气安全提醒" in chat.replies[0]
        assert chat.action == "gas_ask_location"
        await chat.say("东关中巷3号楼2单元", "report_gas", location="东关中巷3号楼")
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "gas"
        assert ticket.location is not None and "东关中巷3号楼2单元" in ticket.location


async def test_a_gas_smell_in_the_middle_of_another_report_is_filed_first(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("路灯坏了", "report_streetlight")
        await chat.say(
            "等等 楼道里好大煤气味 东关中巷3号楼", "report_gas", location="东关中巷3号楼"
        )
        assert "燃气安全提醒" in chat.replies[0]
        (ticket,) = await _tickets(chat)
        assert ticket.category == "gas"


async def test_a_question_in_between_is_answered_and_the_report_resumes(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("路灯坏了", "report_streetlight")
        await chat.say("你们几点上班", "faq/service_station", 0.9)
        assert chat.action == "faq:service_station"
        assert "位置" in chat.replies[-1]
        await chat.say("东关中巷", "report_streetlight", location="东关中巷")
        assert chat.action == "report_confirm"


async def test_two_answers_that_make_no_sense_offer_a_person_and_keep_the_report(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷路灯坏了", "report_streetlight", location="东关中巷")
        await chat.say("sdfgh", "out_of_scope", 0.3)
        assert chat.action == "ask_again"
        await chat.say("asdf jkl", "out_of_scope", 0.3)
        assert chat.action == "ask_again"
        assert "转人工" in chat.replies[-1]
        await chat.say("对", "affirm")
        assert len(await _tickets(chat)) == 1


async def test_the_state_is_typed_and_versioned(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("路灯坏了", "report_streetlight")
        stored = chat.state["dialogue"]
        assert stored["version"] == 1
        assert stored["flow"]["form"] == "report"
        assert stored["flow"]["asking"] == "location"
        assert stored["flow"]["values"] == {"category": "streetlight"}


async def test_something_broken_no_category_covers_is_filed_under_other(tmp_path: Path) -> None:
    """电梯坏了, read weakly as a street light, is no street light: it goes to staff as other."""
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我们楼电梯坏了三天了 住九楼 下不去楼 长青小区11号楼",
            "report_streetlight",
            0.28,
            location="长青小区11号楼",
        )
        assert chat.action == "report_confirm"
        assert "其他问题" in chat.replies[-1]
        await chat.say("是啊 你们给催催", "affirm")
        (ticket,) = await _tickets(chat)
        assert (ticket.category, ticket.location) == ("other", "长青小区11号楼")


async def test_a_broken_thing_the_nlu_was_unsure_of_starts_a_report(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("单元门坏了 门禁刷不开 门也关不上", "complain", 0.13)
        assert chat.action == "report_ask_location"
        await chat.say("翠苑小区3号楼2单元", None, location="翠苑小区3号楼2单元")
        assert chat.action == "report_confirm"
        await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "other" and "单元门坏了" in (ticket.description or "")


async def test_a_weak_reading_backed_by_its_own_words_keeps_its_category(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("楼下那盏灯坏了好几天了", "report_streetlight", 0.35)
        await chat.say("光华社区12号楼门口", None, location="光华社区12号楼门口")
        await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "streetlight"
