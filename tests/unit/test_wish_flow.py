"""The micro-wish form on the engine, with recorded parses (no Rasa, no web)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.messages import Message
from storage.residents import Resident
from storage.tickets import Ticket
from storage.wishes import Wish
from tests.dialog import Dialog

PHONE = "13812345678"


async def _wishes(chat: Dialog) -> list[Wish]:
    return await chat.scalars(select(Wish).order_by(Wish.id))


async def _resident(chat: Dialog) -> Resident:
    (resident,) = await chat.scalars(select(Resident).where(Resident.platform_user_id == chat.user))
    return resident


def _public(wish: Wish) -> str:
    return " ".join([wish.wish, wish.for_whom, wish.due_text or ""])


async def test_said_up_front_the_wish_is_shown_without_the_address_and_phone(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            f"孩子想要一套课外书 想许个微心愿 我家住东关南巷5号 电话{PHONE}",
            "make_wish",
            0.98,
            location="东关南巷5号",
            phone=PHONE,
        )
        assert chat.action == "wish_confirm"
        summary = chat.replies[-1]
        assert "【孩子】孩子想要一套课外书" in summary and "138****5678" in summary
        assert len(summary.splitlines()) <= 3
        await chat.say("对 就这个心愿", "affirm", 0.86)
        assert chat.action is not None and chat.action.startswith("wish_submitted:X")
        (wish,) = await _wishes(chat)
        assert wish.wish == "孩子想要一套课外书" and wish.for_whom == "孩子"
        assert "东关南巷" not in _public(wish) and PHONE not in _public(wish)
        assert wish.due_text is None  # 5号 of the address is no deadline
        resident = await _resident(chat)
        assert resident.phone == PHONE and resident.address == "东关南巷5号"


async def test_in_pieces_the_contact_after_the_summary_and_then_a_yes(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想许个微心愿", "make_wish", 0.98)
        assert chat.action == "wish_ask_what"
        assert "比如：孩子想要一套课外书" in chat.replies[-1]
        await chat.say("我孙子想要个新书包", "make_wish", 0.62)
        assert chat.action == "wish_confirm"
        assert "留个电话或住址" in chat.replies[-1]
        await chat.say("我们住铁指江南小区2号楼 电话13600001234", "report_sanitation", 0.15)
        assert chat.action == "wish_confirm"
        assert "136****1234" in chat.replies[-1]
        await chat.say("对", "affirm", 0.95)
        (wish,) = await _wishes(chat)
        assert wish.wish == "我孙子想要个新书包" and wish.for_whom == "孩子"


async def test_contact_and_a_yes_in_one_message_after_a_question(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想许个心愿", "make_wish", 0.99)
        await chat.say("微心愿是啥意思 谁来帮着实现？", "faq/micro_wish", 0.89)
        assert chat.action == "faq:micro_wish"
        assert "心愿是什么" in chat.replies[-1]  # the wish's question again
        await chat.say("那我想要一个收音机 眼睛不好 听听戏", "make_wish", 0.68)
        assert chat.action == "wish_confirm"
        assert "【本人】" in chat.replies[-1]
        await chat.say("要花钱不？别人能看到我电话吗", "faq/micro_wish", 0.4)
        assert chat.action == "wish_question"
        assert "不会公开" in chat.replies[-1] and "将公开的心愿" in chat.replies[-1]
        await chat.say("东关北街5号 13512340000 对", "affirm", 0.19, location="东关北街5号")
        (wish,) = await _wishes(chat)
        assert "收音机" in wish.wish and "东关北街" not in _public(wish)
        assert wish.for_whom == "本人"


async def test_a_correction_replaces_the_wish_and_drops_what_it_took_back(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想许个愿 冬天了想要件羽绒服", "make_wish", 0.91)
        await chat.say("不是羽绒服 是一双棉鞋 羽绒服闺女给买了", "deny", 0.5, relation="闺女")
        assert chat.action == "wish_confirm"
        assert "一双棉鞋" in chat.replies[-1] and "羽绒服" not in chat.replies[-1]
        assert "【本人】" in chat.replies[-1]  # 闺女 bought it: the wish is not for her
        await chat.say("对 住幸福里小区3号楼 电话13899990000", "report_gas", 0.18)
        (wish,) = await _wishes(chat)
        assert wish.wish == "一双棉鞋"


async def test_a_deadline_as_said_never_a_yes_word(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想许个愿 要个电子血压计 我高血压", "make_wish", 0.72)
        await chat.say("年前就行", "affirm", 0.26)
        assert chat.action == "wish_confirm"
        assert "（希望年前）" in chat.replies[-1]
        await chat.say("东关北街9号 13799998888", "report_noise", 0.13)
        assert chat.action == "wish_confirm"
        await chat.say("对", "affirm", 0.95)
        (wish,) = await _wishes(chat)
        assert wish.due_text == "年前" and "血压计" in wish.wish
        assert "东关北街" not in _public(wish) and "年前" not in wish.wish


async def test_for_whom_said_first_and_the_wish_given_free(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想给我孙女许个愿", "make_wish", 0.66)
        assert chat.action == "wish_ask_what"
        await chat.say("她想要一盒水彩笔 喜欢画画", "make_wish", 0.6)
        await chat.say("我电话13566667777 住南关路3号", "human_handoff", 0.14)
        await chat.say("对 就是她的", "affirm", 0.96)
        (wish,) = await _wishes(chat)
        assert "水彩笔" in wish.wish and wish.for_whom == "孩子"
        assert "南关路" not in _public(wish) and "13566667777" not in _public(wish)
        assert (await _resident(chat)).address == "南关路3号"


async def test_traditional_characters_a_village_and_a_yes_with_thanks(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我想許個微心願 想要一副老花鏡 住東關中巷4號 電話13711112222", "make_wish", 0.4
        )
        assert chat.action == "wish_confirm"  # a weak reading starts it: the summary shows it
        await chat.say("對", "affirm", 0.36)
        await chat.say(
            "我住城关镇东街村 想给孩子许个心愿 要一个台灯写作业用 电话15012345678", "make_wish"
        )
        assert "东街村" not in chat.replies[-1].splitlines()[0]
        await chat.say("对 谢谢", "thank", 0.94)
        first, second = await _wishes(chat)
        assert "老花" in first.wish and "中巷" not in _public(first)
        assert second.wish == "要一个台灯写作业用" and second.for_whom == "孩子"
        assert (await _resident(chat)).address == "城关镇东街村"


async def test_withdrawal_files_nothing(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想许个心愿 要个电暖气", "make_wish", 0.96)
        await chat.say("算了 不许了 让人家破费不好意思", "deny", 0.76)
        assert chat.action == "wish_withdrawn"
        assert "不许" in chat.replies[-1]
        assert await _wishes(chat) == []


async def test_a_gas_smell_in_the_middle_is_filed_at_once(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想许个微心愿 给我家孩子要套画笔", "make_wish", 0.97)
        await chat.say(
            "哎呀 厨房煤气味好大 是不是漏了 铁指江南小区3号楼1单元402",
            "report_gas",
            0.96,
            location="铁指江南小区3号楼1单元402",
        )
        assert "燃气安全提醒" in chat.replies[0]
        (ticket,) = await chat.scalars(select(Ticket))
        assert ticket.category == "gas" and await _wishes(chat) == []


async def test_after_the_wish_its_progress_and_a_detail(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "想许个微心愿 想要个保温杯 上班路上喝热水 住幸福里小区9号楼 电话13733334444",
            "make_wish",
            0.8,
        )
        await chat.say("对", "affirm", 0.95)
        (wish,) = await _wishes(chat)
        await chat.say("啥时候有人认领啊", "check_status", 0.82)
        assert chat.action == f"wish_status:{wish.number}"
        assert "等待社区审核" in chat.replies[-1]
        await chat.say("对了 颜色无所谓", "affirm", 0.52)
        assert chat.action == f"wish_note:{wish.number}"
        (wish,) = await _wishes(chat)
        assert wish.wish.endswith("；颜色无所谓")
        pushed = await chat.scalars(
            select(Message.text).where(Message.action == f"wish_note:{wish.number}")
        )
        assert pushed and "颜色无所谓" in pushed[0]


async def test_a_wish_not_said_is_asked_again_then_a_person_is_offered(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想许个心愿 但是不想让别人知道我家的情况", "make_wish", 0.87)
        assert chat.action == "wish_ask_what"  # 不想让别人知道 is no wish
        await chat.say("嗯", "affirm", 0.5)
        await chat.say("sdfg", "out_of_scope", 0.2)
        assert chat.action == "ask_again"
        await chat.say("xcvb", "out_of_scope", 0.2)
        assert "转人工" in chat.replies[-1]
        await chat.say("能不能让工作人员跟我说 转人工", "human_handoff", 1.0)
        assert chat.action == "handoff"
        assert await _wishes(chat) == []


async def test_a_message_naming_a_wish_starts_it_when_the_nlu_is_unsure(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想许个愿 要一套象棋", "out_of_scope", 0.2)
        assert chat.action == "wish_confirm"
        assert "要一套象棋" in chat.replies[-1]
