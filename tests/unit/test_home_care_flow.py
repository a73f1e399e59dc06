"""The home-care form on the engine, with recorded parses (no Rasa, no web).

Demo identities (seed/home_care.yml): daughter-1 asks for 赵桂兰 (母亲, 甲级) and 钱福生 (父亲,
乙级); r-elder-1 is 赵桂兰 herself; son-3 asks for 孙淑珍 (母亲, 丙级, 10 hours); son-4's
father 周德明 is on file but in no eligible group. Anyone else is not on the roster.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from nlu.timeparse import SHANGHAI
from storage.home_care import CareElder, CareOrder, CareOrderEvent
from storage.home_care_orders import adjust_quota
from storage.residents import Conversation
from storage.tickets import Ticket
from tests.dialog import Dialog


async def _orders(chat: Dialog) -> list[tuple[str, str, datetime]]:
    rows = await chat.scalars(select(CareOrder).order_by(CareOrder.id))
    names = {e.id: e.name for e in await chat.scalars(select(CareElder))}
    return [(names[o.elder_id], o.service_item, o.scheduled_at) for o in rows]


async def _tickets(chat: Dialog) -> list[Ticket]:
    return await chat.scalars(select(Ticket).order_by(Ticket.id))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


async def test_said_up_front_the_mother_gets_her_order_after_one_yes(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        replies = await chat.say(
            "给我妈申请一下上门做饭 明天中午",
            "request_home_care",
            relation="我妈",
            service_item="做饭",
            time="明天中午",
        )
        assert chat.action == "home_care_confirm"
        assert "赵桂兰" in replies[0] and "【做饭】" in replies[0] and "明天中午" in replies[0]
        await chat.say("对 就是我妈赵桂兰", "affirm", relation="我妈")
        assert chat.action is not None and chat.action.startswith("care_order_created:J")
        [(elder, item, when)] = await _orders(chat)
        assert (elder, item) == ("赵桂兰", "做饭")
        assert (_local(when).day, _local(when).hour) == (1, 11)  # Tuesday 12-01 at noon


async def test_whom_is_asked_first_with_the_elders_on_file(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        replies = await chat.say("想给老人约个上门理发 这周哪天都行", "request_home_care", 0.74)
        assert chat.action == "home_care_ask_elder"
        assert "1 赵桂兰（母亲）" in replies[0] and "2 钱福生（父亲）" in replies[0]
        await chat.say("我爸", "request_home_care", 0.43, relation="我爸")
        assert chat.action == "home_care_confirm"
        await chat.say("嗯 可以", "affirm")
        assert [(e, i) for e, i, _ in await _orders(chat)] == [("钱福生", "理发")]


async def test_the_elder_by_number_or_by_name(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say("申请居家养老上门助浴 周六上午", "request_home_care", time="周六上午")
        assert chat.action == "home_care_ask_elder"
        replies = await chat.say("2")  # a number goes without NLU
        assert chat.action == "home_care_confirm" and "钱福生" in replies[0]
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say("申请居家养老上门助浴 周六上午", "request_home_care", time="周六上午")
        replies = await chat.say("钱福生", "out_of_scope", 0.19)
        assert chat.action == "home_care_confirm" and "钱福生" in replies[0]


async def test_a_meal_asks_when_and_the_only_elder_is_shown(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="son-3") as chat:
        await chat.say(
            "我在外地上班 家里老母亲一个人 能不能派人去做个饭", "request_home_care", 0.98
        )
        assert chat.action == "home_care_ask_time"
        await chat.say("对 就我妈", "affirm", relation="我妈")
        assert chat.action == "home_care_ask_time"
        replies = await chat.say("明天中午吧 中午来就行", "cancel_booking", 0.18, time="明天")
        assert chat.action == "home_care_confirm" and "孙淑珍" in replies[0]
        await chat.say("好", "affirm")
        assert [(e, i) for e, i, _ in await _orders(chat)] == [("孙淑珍", "做饭")]


async def test_a_haircut_needs_no_time_and_a_yes_with_one_keeps_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        replies = await chat.say("给我爸约个上门理发", "request_home_care", relation="我爸")
        assert chat.action == "home_care_confirm" and "接单后" in replies[0]
        await chat.say("对 周四上午", "affirm", 0.45, time="周四上午")
        [(elder, item, when)] = await _orders(chat)
        assert (elder, item, _local(when).isoweekday(), _local(when).hour) == (
            "钱福生",
            "理发",
            4,
            8,
        )


async def test_corrections_change_the_elder_the_service_and_the_time(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say("给我爸约个上门测血压", "request_home_care", relation="我爸")
        replies = await chat.say("不对 是我妈 不是我爸 我爸上礼拜刚测过", "deny", 0.79)
        assert chat.action == "home_care_confirm" and "赵桂兰" in replies[0]
        await chat.say("对 这周随便哪天", "out_of_scope", 0.34)
        assert [(e, i) for e, i, _ in await _orders(chat)] == [("赵桂兰", "测血压")]
    async with Dialog.open(tmp_path, user="son-3") as chat:
        await chat.say("给我妈约个上门理发", "request_home_care", relation="我妈")
        replies = await chat.say("不是理发 是助浴 我说错了", "deny", 0.56)
        assert chat.action == "home_care_confirm" and "【助浴】" in replies[0]
        await chat.say("对 助浴 周日上午", "affirm", 0.3)
        [(elder, item, when)] = await _orders(chat)
        assert (elder, item, _local(when).isoweekday()) == ("孙淑珍", "助浴", 7)
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say("给我妈约明天上午来人做饭", "request_home_care", relation="我妈")
        replies = await chat.say("不对 是后天 明天我在家", "deny", 0.37)
        assert chat.action == "home_care_confirm" and "后天" in replies[0]
        await chat.say("对 后天上午", "affirm", 0.35)
        [(_, _, when)] = await _orders(chat)
        assert _local(when).day == 2


async def test_a_question_in_between_is_answered_and_the_request_goes_on(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="r-elder-1") as chat:
        await chat.say("我想叫人来帮我买点药 降压药吃完了", "request_home_care")
        assert chat.action == "home_care_confirm"
        replies = await chat.say("要交钱不？", "deny", 0.27)
        assert chat.action == "faq:home_care_hours_fee"
        assert "17元" in replies[0] and "【代买药品】" in replies[-1]
        await chat.say("对 好", "affirm")
        assert [(e, i) for e, i, _ in await _orders(chat)] == [("赵桂兰", "代买药品")]


async def test_withdrawal_ends_it_and_nothing_is_ordered(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="r-elder-1") as chat:
        await chat.say("想叫个人来给我做饭", "human_handoff", 0.47)  # unsure: read as home care
        assert chat.action == "home_care_ask_time"
        await chat.say("不用了 我闺女今天回来了", "deny", 0.48)
        assert chat.action == "home_care_withdrawn"
        assert await _orders(chat) == [] and await _tickets(chat) == []


async def test_a_new_elder_said_up_front_is_filed_for_assessment_with_everything(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        replies = await chat.say(
            "我想给我妈申请居家养老上门服务 她78了 一个人住 在东关南巷7号 想要人帮着做饭",
            "request_home_care",
            location="东关南巷7号",
        )
        assert chat.action == "home_care_confirm"
        assert "78岁" in replies[0] and "独居" in replies[0] and "东关南巷7号" in replies[0]
        await chat.say("对 就这些 我电话13700006666 谢谢", "thank", 0.5)
        assert chat.action is not None and chat.action.startswith("home_care_assess:")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "home_care" and ticket.location == "东关南巷7号"
        for said in ("78", "一个人住", "做饭", "13700006666"):
            assert said in (ticket.description or "")
        assert json.loads(ticket.details or "{}")["reason"] == "not_registered"
        assert await _orders(chat) == []


async def test_a_new_elder_in_pieces_is_asked_one_thing_at_a_time(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我家老爷子没人管 想问问能不能派人上门", "request_home_care", 0.99)
        assert chat.action == "home_care_ask_age"  # whom first: his age, never "not on file"
        await chat.say("他82了 老伴去年走了 现在一个人住", "request_home_care", 0.14)
        assert chat.action == "home_care_ask_location"
        await chat.say("安康小区3号楼2单元402", "report_water", 0.24)
        assert chat.action == "home_care_ask_item"
        await chat.say("主要是洗澡 他自己洗不了", "request_home_care", 0.25)
        assert chat.action == "home_care_confirm"
        await chat.say("对 是我爸 我电话13700002222", "affirm", 0.65)
        (ticket,) = await _tickets(chat)
        assert ticket.location == "安康小区3号楼2单元402"
        assert all(w in (ticket.description or "") for w in ("82", "一个人住", "洗澡"))


async def test_what_a_message_gives_is_kept_whichever_question_was_asked(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想给我爸申请居家养老", "request_home_care", 0.43)
        assert chat.action == "home_care_ask_age"
        await chat.say("住幸福里小区8号楼1单元201 想要人去做饭", "report_gas", 0.15)
        assert chat.action == "home_care_ask_age"
        replies = await chat.say("他75 自己住", "out_of_scope", 0.3)
        assert chat.action == "home_care_confirm"
        assert "幸福里小区8号楼1单元201" in replies[0] and "做饭" in replies[0]


async def test_a_corrected_room_number_replaces_the_old_one(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "给我爸申请居家养老 他80了 一个人住 幸福里小区6号楼302 要做饭", "request_home_care"
        )
        replies = await chat.say("不对 是6号楼202 不是302", "deny", 0.94)
        assert chat.action == "home_care_confirm" and "幸福里小区6号楼202" in replies[0]
        await chat.say("对 电话13500001111", "affirm", 0.35)
        (ticket,) = await _tickets(chat)
        assert ticket.location == "幸福里小区6号楼202"


async def test_an_elder_on_file_but_not_eligible_is_offered_an_assessment(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="son-4") as chat:
        replies = await chat.say(
            "给我爸申请居家养老 上门做饭", "request_home_care", relation="我爸"
        )
        assert chat.action == "home_care_confirm" and "周德明" in replies[0]
        await chat.say("他不是低保也不是特困 能申请不", "deny", 0.38)
        assert chat.action == "faq:home_care_eligibility"
        replies = await chat.say("好的 麻烦让工作人员联系我", "human_handoff", 0.85)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "home_care" and ticket.location == "东关北街12号"
        assert json.loads(ticket.details or "{}")["reason"] == "not_eligible"
        assert str(ticket.number) in replies[0]
        assert await _orders(chat) == []
        (conversation,) = await chat.scalars(
            select(Conversation).where(Conversation.user_id == "son-4")
        )
        assert conversation.handed_off


async def test_hours_used_up_this_month_go_to_staff_with_what_is_left(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="son-3") as chat:
        async with chat.sessions() as session, session.begin():
            elder = (
                await session.scalars(select(CareElder).where(CareElder.name == "孙淑珍"))
            ).one()
            await adjust_quota(session, elder, "2026-12", 9 * 60 + 30)  # 丙级: 10 hours
        replies = await chat.say(
            "给我妈约个上门做饭 明天中午", "request_home_care", time="明天中午"
        )
        assert chat.action is not None and chat.action.startswith("home_care_quota:")
        assert "只剩 0.5 小时" in replies[0] and "丙级每月 10 小时" in replies[0]
        (ticket,) = await _tickets(chat)
        assert json.loads(ticket.details or "{}")["reason"] == "quota_exhausted"
        assert await _orders(chat) == []
        await chat.say("好的", "affirm")
        assert await _orders(chat) == []


async def test_words_after_the_order_are_kept_on_it_and_questions_answered(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say("给我爸约个上门理发", "request_home_care", relation="我爸")
        await chat.say("对 周四上午", "affirm", 0.45)
        await chat.say("对了 他家在五楼 没电梯 让师傅多担待", "affirm", 0.14)
        assert chat.action is not None and chat.action.startswith("order_note:")
        (note,) = await chat.scalars(
            select(CareOrderEvent).where(CareOrderEvent.kind == "resident_note")
        )
        assert "五楼" in (note.note or "")
        replies = await chat.say("大概几点能到", "report_noise", 0.16)
        assert chat.action is not None and chat.action.startswith("order_status:")
        assert "等服务机构接单" in replies[0]
        await chat.say("还有我妈 要做饭的 周五中午", "request_home_care", 0.16)
        assert chat.action == "home_care_confirm"
        await chat.say("对 就这样", "affirm")
        orders = [(e, i) for e, i, _ in await _orders(chat)]
        assert orders == [("钱福生", "理发"), ("赵桂兰", "做饭")]


async def test_a_gas_smell_at_the_confirmation_files_both(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say("给我妈约个做饭的 明天中午", "request_home_care", 0.28)  # unsure
        assert chat.action == "home_care_confirm"
        await chat.say(
            "对 还有个事 她刚打电话说厨房一股煤气味 东关中巷3号楼2单元101",
            "report_gas",
            0.93,
            location="东关中巷3号楼",
        )
        assert [(e, i) for e, i, _ in await _orders(chat)] == [("赵桂兰", "做饭")]
        (ticket,) = await _tickets(chat)
        assert ticket.category == "gas" and "东关中巷3号楼2单元101" in (ticket.location or "")


async def test_silence_before_the_yes_files_the_assessment_with_what_was_said(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "帮我妈申请居家养老服务 她80岁 独居 住东关南巷12号 要人帮着买药",
            "request_home_care",
            location="东关南巷",
        )
        await chat.wait(240)
        (ticket,) = await _tickets(chat)
        assert ticket.category == "home_care" and ticket.location == "东关南巷12号"
        assert "买药" in (ticket.description or "")


async def test_the_policy_answer_offers_to_apply(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="r-elder-1") as chat:
        replies = await chat.say("哪些老人可以申请居家养老服务", "faq/home_care_eligibility")
        assert "回复 1" in replies[0]
        await chat.say("1")
        assert chat.action == "home_care_ask_item"


async def test_a_neighbour_applies_for_an_elder_by_family_name_and_title(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        replies = await chat.say(
            "我们楼有个独居老人张大爷 88了 住东关中巷5号楼1单元 没人照顾 能不能申请上门送饭",
            "request_home_care",
            0.79,
        )
        assert chat.action == "home_care_confirm" and "张大爷" in replies[0]
        await chat.say("对 我是他邻居 他没儿没女 我电话13600007777", "affirm", 0.3)
        (ticket,) = await _tickets(chat)
        assert ticket.location == "东关中巷5号楼1单元"
        assert "88" in (ticket.description or "") and "张大爷" in (ticket.description or "")


async def test_an_age_the_nlu_marked_as_a_place_is_not_the_address(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我家老爷子没人管 想问问能不能派人上门", "request_home_care", 0.99)
        await chat.say("他82了 老伴去年走了 现在一个人住", "request_home_care", 0.14, location="82")
        assert chat.action == "home_care_ask_location"


async def test_living_alone_or_not_in_the_residents_words(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我姥姥在城关镇西门村住 自己一个人 九十了", "request_home_care", 0.75)
        assert chat.action == "home_care_ask_item"  # alone, 90, the village: all kept
    async with Dialog.open(tmp_path, user="fresh-2") as chat:
        await chat.say("我老伴瘫在床上 想申请有人上门帮着洗澡", "request_home_care", 0.84)
        replies = await chat.say("就我老伴 她73了 我们俩住 南关路18号", "report_streetlight", 0.23)
        assert chat.action == "home_care_confirm" and "和家人同住" in replies[0]
    async with Dialog.open(tmp_path, user="fresh-3") as chat:
        await chat.say("想给我爸申请居家养老 他80了", "request_home_care")
        assert chat.action == "home_care_ask_living"
        await chat.say("对", "affirm")
        assert chat.action == "home_care_ask_location"


async def test_a_yes_that_thanks_the_helper_orders_and_names_no_one_new(tmp_path: Path) -> None:
    """ "是的 辛苦阿姨了" agrees; 阿姨 is the one who comes, not whom the order is for."""
    async with Dialog.open(tmp_path, user="son-3") as chat:
        await chat.say(
            "我妈好长时间没洗澡了 能派人上门助浴吗 周四上午",
            "request_home_care",
            relation="我妈",
            service_item="助浴",
            time="周四上午",
        )
        assert chat.action == "home_care_confirm"
        await chat.say("是的 辛苦阿姨了", "thank")
        assert chat.action is not None and chat.action.startswith("care_order_created:J")
        [(elder, item, _)] = await _orders(chat)
        assert (elder, item) == ("孙淑珍", "助浴")


async def test_a_relative_with_no_roster_relation_is_someone_new_to_assess(tmp_path: Path) -> None:
    """ "我大姨一个人住 …": 大姨 is no relation on file; she is assessed, nothing breaks."""
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "我大姨一个人住 昨天摔了一跤 没人做饭 能不能派人上门照顾一下 她住新华街道红梅小区6号楼1单元302",
            "request_home_care",
            0.92,
            time="昨天",
            service_item="做饭",
            location="新华街道红梅小区6号楼1单元302",
        )
        assert chat.action is not None and chat.action.startswith("home_care_")
        assert "大姨" in chat.replies[-1] or "多大" in chat.replies[-1]


async def test_medicine_to_buy_is_read_from_words_around_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="son-3") as chat:
        await chat.say(
            "我妈的降压药吃完了 能不能帮着买点送过去 今天下午",
            "request_home_care",
            relation="我妈",
            time="今天下午",
        )
        assert chat.action == "home_care_confirm"
        assert "【代买药品】" in chat.replies[-1]


async def test_a_cook_asked_for_in_own_words_starts_home_care(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path, user="son-3") as chat:
        await chat.say("想约个做饭的阿姨", "complain", 0.2)
        assert chat.action is not None and chat.action.startswith("home_care_")


async def test_another_matter_at_the_confirmation_is_filed_and_the_order_resumes(
    tmp_path: Path,
) -> None:
    """ "对了 先说个事 …" is no yes: the street light is reported, then the haircut is asked again."""
    async with Dialog.open(tmp_path, user="daughter-1") as chat:
        await chat.say(
            "想给我爸约个上门理发", "request_home_care", relation="我爸", service_item="理发"
        )
        assert chat.action == "home_care_confirm"
        await chat.say(
            "对了 先说个事 我爸楼下路灯坏了 幸福里小区5号楼门口",
            "report_streetlight",
            location="幸福里小区5号楼门口",
        )
        assert chat.action == "report_confirm"
        assert await _orders(chat) == []
        replies = await chat.say("对", "affirm")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "streetlight" and ticket.location == "幸福里小区5号楼门口"
        assert "刚才的事接着办" in replies[-1] and "理发" in replies[-1]
        await chat.say("对", "affirm")
        [(elder, item, _)] = await _orders(chat)
        assert (elder, item) == ("钱福生", "理发")


async def _living_alone_asks_for_herself(chat: Dialog) -> None:
    """A new resident, not on the roster, asks for home care for herself, all but her name."""
    await chat.say(
        "我是独居老人 78岁 低保户 住在建设街道春晖小区2号楼1单元102 想申请居家养老 上门帮着打扫做饭",
        "request_home_care",
        location="建设街道春晖小区2号楼1单元102",
    )


async def test_a_yes_with_the_last_piece_files_the_assessment(tmp_path: Path) -> None:
    """ "对 我叫刘玉珍" answers the last question and says yes: filed, not asked again."""
    async with Dialog.open(tmp_path) as chat:
        await _living_alone_asks_for_herself(chat)
        assert chat.action == "home_care_ask_elder"
        await chat.say("对 我叫刘玉珍", "affirm")
        assert chat.action is not None and chat.action.startswith("home_care_assess:")
        (ticket,) = await _tickets(chat)
        assert ticket.category == "home_care" and "春晖小区2号楼1单元102" in (ticket.location or "")


async def test_an_answer_without_a_yes_is_still_confirmed(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await _living_alone_asks_for_herself(chat)
        await chat.say("我叫刘玉珍", None)
        assert chat.action == "home_care_confirm"
