"""The complaint form on the engine, with recorded parses (no Rasa, no web)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from storage.tickets import Ticket, TicketEvent
from tests.dialog import Dialog


async def _tickets(chat: Dialog) -> list[Ticket]:
    return await chat.scalars(select(Ticket).order_by(Ticket.id))


async def test_said_up_front_confirmed_with_words_a_staff_ticket(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("你好", "greet")
        text = "说好的周二上门给我妈理发 到现在都没人来 你们这是咋回事"
        await chat.say(text, "complain", 0.91, time="周二", relation="我妈")
        assert chat.action == "complaint_confirm"
        assert "理发" in chat.replies[-1] and "时间：周二" in chat.replies[-1]
        assert len(chat.replies[-1].splitlines()) <= 3
        await chat.say("对 我要投诉", "complain", 0.84)
        assert chat.action is not None and chat.action.startswith("complaint:")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "complaint" and ticket.description == text
        history = [e["text"] for e in json.loads(ticket.details or "{}")["history"]]
        assert history[0] == "你好" and text in history


async def test_asked_what_happened_when_only_the_wish_to_complain_is_said(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我要投诉", "complain", 0.93)
        assert chat.action == "complaint_ask_what"
        account = "今天去社区办事 窗口那个工作人员爱答不理的 还嫌我老太太问得多"
        await chat.say(account, "out_of_scope", 0.16, time="今天")
        assert chat.action == "complaint_confirm"
        assert "涉及：工作人员" in chat.replies[-1]
        await chat.say("是 就这个事 麻烦领导看看", "affirm", 0.75)
        (ticket,) = await _tickets(chat)
        assert "爱答不理" in ticket.description


async def test_a_verdict_alone_is_no_account(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("你们这个服务太差了", "complain", 0.87)
        assert chat.action == "complaint_ask_what"
        await chat.say("上礼拜报的下水道 来了个人看了一眼就走了 说不归他管", "complain", 0.49)
        assert chat.action == "complaint_confirm"
        assert "时间：上礼拜" in chat.replies[-1]
        await chat.say("对 我要投诉他 谢谢", "thank", 0.54)
        (ticket,) = await _tickets(chat)
        assert "看了一眼" in ticket.description


async def test_a_phone_in_the_complaint_is_masked(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我要投诉", "complain", 0.93)
        await chat.say("打了三次电话都说马上来，到现在也没来人，我电话13912345678", "complain", 0.6)
        await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        assert "13912345678" not in ticket.description and "139****5678" in ticket.description


async def test_a_correction_changes_the_time_and_the_account(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("投诉一下 周三来打扫卫生的人把我家花瓶打了 也不吭声", "complain", 0.8)
        await chat.say("不是周三 是周四来的那个", "deny", 0.41, time="周三")
        assert chat.action == "complaint_confirm"
        assert "时间：周四" in chat.replies[-1] and "周三" not in chat.replies[-1]
        await chat.say("对 就这个", "affirm", 0.99)
        (ticket,) = await _tickets(chat)
        assert "周四来打扫卫生的人把我家花瓶打了" in ticket.description


async def test_a_question_in_between_is_answered_and_a_yes_later_files(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想投诉 来家里测血压的人根本没测 签个字就走了", "complain", 0.86)
        await chat.say("投诉了会不会对老人有啥影响啊 以后还给不给服务", "complain", 0.35)
        assert chat.action == "complaint_question"
        assert "不会影响您家的服务" in chat.replies[-1] and "您要投诉" in chat.replies[-1]
        await chat.say("那行 你们给记上吧", "thank", 0.25)
        (ticket,) = await _tickets(chat)
        assert "测血压" in ticket.description and "影响" not in ticket.description


async def test_more_words_at_the_confirmation_join_the_account(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("投诉一下 居家养老那个护工每次来半小时就走 说好的两个小时", "complain", 0.89)
        await chat.say("而且态度也不好 还嫌我家脏", "out_of_scope", 0.3)
        assert chat.action == "complaint_confirm"
        await chat.say("对 是这样", "affirm", 0.99)
        (ticket,) = await _tickets(chat)
        assert "半小时就走" in ticket.description and "嫌我家脏" in ticket.description


async def test_a_detail_after_the_ticket_is_added_to_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("投诉一下 居家养老那个护工每次来半小时就走 说好的两个小时", "complain", 0.89)
        await chat.say("对 是这样", "affirm", 0.99)
        (ticket,) = await _tickets(chat)
        await chat.say("那个护工姓刘 个子挺高的", "out_of_scope", 0.2)
        assert chat.action == f"ticket_note:{ticket.number}"
        notes = await chat.scalars(
            select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id)
        )
        assert any("姓刘" in (note or "") for note in notes)


async def test_withdrawal_files_nothing(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我要投诉 约的上门助浴到点了还没来", "complain", 0.71)
        assert chat.action == "complaint_confirm"
        await chat.say("哦 不用了 人刚到门口 算了不投诉了", "deny", 0.97)
        assert chat.action == "complaint_withdrawn"
        assert await _tickets(chat) == []


async def test_silence_at_the_confirmation_still_reaches_staff(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我要投诉你们社区 办个证来回跑了五趟 每次都说缺材料 一次性说清楚不行吗",
            "complain",
            0.97,
        )
        await chat.wait(20)
        await chat.wait(20)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "complaint" and "五趟" in ticket.description


async def test_a_message_saying_complaint_starts_it_when_the_nlu_is_unsure(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我要投訴 上門做飯的阿姨連著兩個禮拜都沒來", "request_home_care", 0.3)
        assert chat.action == "complaint_confirm"
