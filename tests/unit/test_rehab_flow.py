"""Rehab booking and booking changes on the engine, with recorded parses (no Rasa, no web).

The clock is Monday 2026-11-30 10:00 (Shanghai). Stations (seed/rehab.yml): 东关 has 周二
9:00 and 10:00 and 周四 9:00 肢体康复训练, 周四 14:30 康复评估与指导, 周六 9:00 中医康复理疗;
铁指江南 has 周一 14:30 评估, 周三 and 周五 9:00 肢体康复训练, 周五 15:00 言语康复训练.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from nlu.timeparse import SHANGHAI
from storage.booking_places import book_slot, slot_offers
from storage.bookings import Booking
from storage.residents import Resident, get_or_create_resident
from tests.dialog import Dialog


async def _bookings(chat: Dialog) -> list[Booking]:
    return await chat.scalars(select(Booking).order_by(Booking.id))


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def test_the_conversation_md_example_books_the_afternoon_for_her_mother(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "想给我妈约个周四的康复 东关社区那个站",
            "book_rehab",
            0.84,
            relation="我妈",
            time="周四",
        )
        assert chat.action == "rehab_ask_session"
        offer = chat.replies[-1]
        assert "东关社区吉康之家" in offer and "12月3日（周四）" in offer
        assert "1 上午9:00 肢体康复训练" in offer and "2 下午2:30 康复评估与指导" in offer
        await chat.say("下午吧 她上午起不来", "cancel_booking", 0.16)
        assert chat.action == "rehab_confirm"
        assert "下午2:30 康复评估与指导" in chat.replies[-1] and "您母亲" in chat.replies[-1]
        await chat.say("嗯 可以", "affirm", 0.99)
        assert chat.action == "rehab_booked:Y1001"
        assert "预约号 Y1001" in chat.replies[-1] and "前一天会提醒您" in chat.replies[-1]
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(12, 3, 14, 30)
        assert (booking.person, booking.relation, booking.status) == ("母亲", "我妈", "booked")


async def test_said_up_front_is_not_asked_again_and_a_yes_with_words_books(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "给我爸约下礼拜二上午十点东关吉康之家的肢体康复训练 他中风以后腿不利索",
            "book_rehab",
            relation="我爸",
        )
        assert chat.action == "rehab_confirm"  # station, day, time and person all said
        assert "12月8日（周二）上午10:00" in chat.replies[-1] and "您父亲" in chat.replies[-1]
        await chat.say("对对对 就是十点那场 麻烦你们了 老爷子念叨好几天了", "affirm", 0.64)
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(12, 8, 10)
        assert booking.relation == "我爸"  # 老爷子 is the same person, not a new one


async def test_in_pieces_out_of_order(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("康复", "book_rehab", 1.0)
        assert chat.action == "rehab_ask_station"
        await chat.say("给我妈", "request_home_care", 0.47, relation="我妈")
        await chat.say("下午", "greet", 0.2)
        await chat.say("周一", "out_of_scope", 0.15)
        assert chat.action == "rehab_ask_station"  # each piece kept, the station still asked
        await chat.say("铁指江南", "report_noise", 0.11)
        assert chat.action == "rehab_confirm"
        await chat.say("对", "affirm")
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(11, 30, 14, 30) and booking.person == "母亲"


async def test_a_station_by_its_address_and_a_session_by_its_clock(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想约个康复", "book_rehab", 0.99)
        await chat.say("北街那个 党群服务中心一楼的", "check_status", 0.54)
        assert chat.action == "rehab_ask_session" and "东关社区吉康之家" in chat.replies[-1]
        await chat.say("礼拜二 十点的那场", "check_status", 0.63)
        assert chat.action == "rehab_confirm" and "12月1日（周二）上午10:00" in chat.replies[-1]
        await chat.say("就我本人 对", "affirm", 0.79)
        (booking,) = await _bookings(chat)
        assert booking.person == "本人" and booking.relation is None


async def test_a_station_said_against_is_not_chosen(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("帮我妈约个康复评估", "book_rehab", 0.92, relation="我妈")
        await chat.say("东关的吧 铁指那边太远了", "report_streetlight", 0.19, location="东关")
        assert chat.action == "rehab_ask_session" and "东关社区吉康之家" in chat.replies[-1]


async def test_a_place_with_no_station_says_which_is_near(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我住安康小区 想约个康复训练", "book_rehab", 0.8)
        assert chat.replies[0] == (
            "安康小区没有吉康之家，离得近的是东关社区吉康之家（东关北街16号）。"
        )
        assert chat.action == "rehab_ask_station"
        await chat.say("我住光华社区那边", "out_of_scope", 0.2)
        assert chat.replies[0] == "光华社区没有吉康之家。"
        await chat.say("那就铁指江南那个 周三上午", "report_streetlight", 0.15)
        assert chat.action == "rehab_confirm" and "12月2日（周三）上午9:00" in chat.replies[-1]


async def test_a_day_without_sessions_says_what_there_is_and_a_correction_books(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("帮我约周四上午铁指江南的肢体康复", "book_rehab", 0.92)
        assert chat.action == "rehab_ask_session"
        assert "周四上午没有康复师坐诊" in chat.replies[-1]
        await chat.say("哦 不是周四 是周五 我记错了", "deny", 0.67)
        assert chat.action == "rehab_confirm" and "12月4日（周五）上午9:00" in chat.replies[-1]
        await chat.say("对 上午九点的 就我本人", "affirm", 0.68)
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(12, 4, 9)


async def test_corrections_at_the_confirmation_change_the_piece_and_confirm_again(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("周四给我爸约个康复 东关的 上午", "book_rehab", 0.93, relation="我爸")
        assert "上午9:00" in chat.replies[-1]
        await chat.say("哎不对 上午他去不了 改成下午", "deny", 0.4)
        assert chat.action == "rehab_confirm" and "下午2:30" in chat.replies[-1]
        await chat.say("不是给我爸 是给我自己 他不去了", "deny", 0.38)
        assert chat.action == "rehab_confirm" and "您本人" in chat.replies[-1]
        await chat.say("嗯 下午两点半那个 行 麻烦了", "affirm", 0.44)
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(12, 3, 14, 30) and booking.person == "本人"


async def test_a_station_corrected_with_a_slip(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约周五上午的康复训练 东关那个", "book_rehab", 0.84, location="东关")
        assert "周五上午没有康复师坐诊" in chat.replies[-1]
        await chat.say("那就铁指江南的 不是东关 我说错了", "deny", 0.49)
        assert chat.action == "rehab_confirm" and "铁指江南吉康之家" in chat.replies[-1]


async def test_a_question_in_between_is_answered_and_the_booking_goes_on(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我孙子约个康复 他三岁 说话晚", "book_rehab", 0.87)
        await chat.say("残疾儿童康复有补助吗？", "faq/rehab_children", 0.99)
        assert chat.action is not None and chat.action.startswith("faq")
        assert "去哪个站" in chat.replies[-1]  # the question asked again
        await chat.say("铁指江南那个 周五下午的言语训练", "cancel_booking", 0.19)
        assert chat.action == "rehab_confirm" and "言语康复训练" in chat.replies[-1]
        await chat.say("对 就这么约", "affirm", 0.88)
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(12, 4, 15) and booking.person == "孙子"


async def test_a_yes_with_the_session_chosen_books_at_once(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我爸约周二的康复训练 东关", "book_rehab", 0.96, relation="我爸")
        assert chat.action == "rehab_ask_session"
        await chat.say("九点那个 对", "affirm", 0.72)
        assert chat.action == "rehab_booked:Y1001"
        assert "您父亲" in chat.replies[-1]  # the booking says all it holds


async def test_a_withdrawal_ends_the_booking_and_says_so(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约周五上午铁指江南的康复训练", "book_rehab", 0.95)
        await chat.say("先不约了 等我问问我儿子那天有没有空送我", "seek_job", 0.21)
        assert chat.action == "rehab_withdrawn" and "先不约了" in chat.replies[0]
        assert await _bookings(chat) == []


async def _fill_saturday(chat: Dialog) -> None:
    """Others take every place of 东关's Saturday session."""
    async with chat.sessions() as session, session.begin():
        offers = await slot_offers(session, 1, _at(11, 30, 10), 14)
        (saturday,) = [o for o in offers if o.day.isoformat() == "2026-12-05"]
        for i in range(saturday.left):
            other = await get_or_create_resident(session, "generic", f"other-{i}")
            await book_slot(
                session,
                weekly_session_id=saturday.weekly.id,
                day=saturday.day,
                resident_id=other.id,
            )


async def test_a_session_taken_meanwhile_is_chosen_again(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约礼拜六上午东关的中医理疗 我自己", "book_rehab", 0.9)
        assert chat.action == "rehab_confirm"
        await _fill_saturday(chat)
        await chat.say("对", "affirm")
        assert chat.replies[0] == "抱歉，这一场刚刚被约满了。"
        assert chat.action == "rehab_ask_session"
        assert "12月12日（周六）上午9:00 中医康复理疗" in chat.replies[-1]
        await chat.say("好 12号那个", "affirm", 0.5)
        (resident,) = await chat.scalars(
            select(Resident).where(Resident.platform_user_id == chat.user)
        )
        mine = [b for b in await _bookings(chat) if b.resident_id == resident.id]
        assert [b.starts_at for b in mine] == [_at(12, 12, 9)]


async def test_after_booking_a_new_day_moves_it_and_keeps_the_number(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约周三上午铁指江南的康复训练 我自己", "book_rehab", 0.92)
        await chat.say("对", "affirm")
        await chat.say("换到周五", "cancel_booking", 0.16)
        assert chat.action == "booking_change_confirm"
        assert "Y1001 改到 12月4日（周五）上午9:00 肢体康复训练" in chat.replies[-1]
        await chat.say("对 还是上午九点", "affirm", 0.39)
        assert chat.action == "booking_moved:Y1001"
        (booking,) = await _bookings(chat)
        assert booking.number == "Y1001" and booking.starts_at == _at(12, 4, 9)


async def test_moving_to_another_station_named_after_the_change(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我爸约周四下午东关的康复评估", "book_rehab", 0.89, relation="我爸")
        await chat.say("对", "affirm")
        await chat.say(
            "周四那个能不能换到下周一 听说铁指江南周一下午也有评估", "cancel_booking", 0.16
        )
        assert "12月7日（周一）下午2:30 康复评估与指导，铁指江南吉康之家" in chat.replies[-1]
        await chat.say("对 就铁指江南周一下午那个", "affirm", 0.58)
        assert chat.action == "booking_moved:Y1001"
        (booking,) = await _bookings(chat)
        assert booking.starts_at == _at(12, 7, 14, 30)


async def test_cancelling_in_words_is_confirmed_and_cancel_words_agree(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say(
            "给我儿子约周五下午铁指江南的言语训练", "book_rehab", 0.73, relation="我儿子"
        )
        await chat.say("是的", "affirm")
        await chat.say("周五那个康复去不了了 孩子发烧 给我取消了吧", "cancel_booking", 0.97)
        assert chat.action == "booking_change_confirm" and "确定取消吗" in chat.replies[-1]
        await chat.say("嗯 不去了", "cancel_booking", 0.36)
        assert chat.action == "booking_cancelled:Y1001"
        (booking,) = await _bookings(chat)
        assert booking.status == "cancelled"


async def test_a_cancellation_taken_back_keeps_the_booking(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约周四上午东关的康复训练 我自己 九点", "book_rehab", 0.9)
        await chat.say("对", "affirm")
        await chat.say("周四那个康复 要不取消了吧", "cancel_booking", 0.96)
        await chat.say("算了算了 还是不取消了 我让儿子送我去", "cancel_booking", 0.33)
        assert chat.action == "booking_change_withdrawn" and "预约不变" in chat.replies[0]
        (booking,) = await _bookings(chat)
        assert booking.status == "booked"


async def test_which_booking_by_its_day_and_what_time_it_is(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约礼拜二上午九点东关的康复训练 我自己", "book_rehab", 0.96)
        await chat.say("对", "affirm")
        await chat.say("约礼拜六上午东关的中医理疗 我自己", "book_rehab", 0.9)
        await chat.say("对", "affirm")
        await chat.say("我刚才约的那个是几点来着", "check_status", 0.27)
        assert (
            chat.action == "booking_status:Y1002" and "12月5日（周六）上午9:00" in chat.replies[0]
        )
        await chat.say("礼拜二那个我去不了了 取消吧", "cancel_booking", 0.98)
        assert "取消预约 Y1001" in chat.replies[-1]
        await chat.say("对 取消", "cancel_booking", 0.62)
        first, second = await _bookings(chat)
        assert (first.status, second.status) == ("cancelled", "booked")


async def test_commands_cancel_at_once_and_move_by_choice(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约礼拜二上午九点东关的康复训练 我自己", "book_rehab", 0.96)
        await chat.say("对", "affirm")
        await chat.say("改约 Y1001")
        assert chat.action == "booking_change_ask_session"
        assert "12月1日（周二）上午9:00" not in chat.replies[-1]  # not the time it has
        await chat.say("周四上午", "cancel_booking", 0.2)
        assert chat.action == "booking_change_confirm"
        await chat.say("好", "affirm")
        assert chat.action == "booking_moved:Y1001"
        await chat.say("取消预约 Y1001")
        assert chat.action == "booking_cancelled:Y1001"
        await chat.say("取消预约 Y1009")
        assert chat.action == "booking_not_found"
        (booking,) = await _bookings(chat)
        assert booking.status == "cancelled" and booking.starts_at == _at(12, 3, 9)


async def test_nothing_to_change_says_so(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("明天的康复去不了了", "cancel_booking", 0.95)
        assert chat.action == "booking_none"
        assert chat.state.get("dialogue", {}).get("flow") is None


async def test_a_question_the_nlu_is_unsure_of_is_answered_from_the_faq(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想约个康复 东关吉康之家", "book_rehab", 0.97)
        await chat.say("周末开不开？我上班只能周末去", "out_of_scope", 0.3)
        assert chat.action == "faq:service_station"
        assert "约哪个" in chat.replies[-1]  # the booking goes on
        await chat.say("那就礼拜六上午那个中医理疗", "nlu_fallback", 0.1)
        assert chat.action == "rehab_confirm" and "12月5日（周六）上午9:00" in chat.replies[-1]


async def test_a_weak_reading_that_names_rehab_starts_the_booking(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约礼拜六上午东关的中医理疗 我自己", "book_rehab", 0.297)
        assert chat.action == "rehab_confirm"


async def test_a_greeting_that_asks_for_rehab_starts_the_booking(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("喂 你好 我想约那个康服训练 铁只江南那个 周三上午的 我自己去", "greet", 0.53)
        assert chat.action == "rehab_confirm" and "铁指江南吉康之家" in chat.replies[-1]
    async with Dialog.open(tmp_path, user="greeter") as chat:
        await chat.say("你好", "greet", 0.99)  # a greeting alone is still one
        assert chat.action == "greet"


async def test_a_clock_answer_is_confirmed_and_a_yes_after_booking_is_taken(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("医生说要做康复", "book_rehab", 0.92)
        await chat.say("你们东关那个站礼拜二有吗", "check_status", 0.22, location="东关")
        await chat.say("你们几点开门？他起得早", "greet", 0.35)  # 早 is no time asked for
        assert chat.action == "faq:service_station"
        await chat.say("十点那个", "report_noise", 0.25)
        assert chat.action == "rehab_confirm"  # 10 is no "1": nothing booked unseen
        await chat.say("嗯 给他约上", "affirm", 0.37)
        assert chat.action == "rehab_booked:Y1001"
        await chat.say("嗯 好的", "affirm", 0.9)
        assert chat.action == "booking_ack:Y1001"


async def test_give_me_one_if_you_can_agrees_to_the_booking(tmp_path: Path) -> None:
    """The message "能约就给我约上" at the confirmation is a yes."""
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约周四上午东关的康复训练 我自己 九点", "book_rehab", 0.9)
        assert chat.action == "rehab_confirm"
        await chat.say("能约就给我约上", "book_rehab", 0.8)
        assert chat.action is not None and chat.action.startswith("rehab_booked:")


async def test_asking_whether_there_is_a_session_starts_the_booking(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("周六东关有中医理疗吗 我腰不好", "greet", 0.4)
        assert chat.action is not None and chat.action.startswith("rehab_")


async def test_an_unsure_question_after_the_booking_is_answered_beside_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("约周四上午东关的康复训练 我自己 九点", "book_rehab", 0.9)
        await chat.say("对", "affirm")
        await chat.say("要带什么东西吗 她坐轮椅 能推进去吗", "faq/disability_cert", 0.35)
        assert chat.action == "booking_question:Y1001"
        assert "转人工" in chat.replies[-1] and "9:00" in chat.replies[-1]
