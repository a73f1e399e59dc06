"""Activity sign-up on the engine, with recorded parses (no Rasa, no web): the seeded
activities of seed/activities.yml, the clock at Monday 2026-11-30 10:00."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from nlu.timeparse import SHANGHAI
from storage.booking_places import book_activity
from storage.bookings import Activity, Booking
from storage.residents import get_or_create_resident
from storage.tickets import Ticket
from tests.dialog import Dialog


async def _bookings(chat: Dialog) -> list[Booking]:
    return await chat.scalars(select(Booking).order_by(Booking.id))


async def _signed_up(chat: Dialog) -> list[tuple[str, str, str, str | None]]:
    """(activity title, status, person, relation) of every booking."""
    titles = {a.id: a.title for a in await chat.scalars(select(Activity))}
    return [
        (titles[b.activity_id or 0], b.status, b.person, b.relation) for b in await _bookings(chat)
    ]


async def _activity(chat: Dialog, code: str) -> Activity:
    [activity] = await chat.scalars(select(Activity).where(Activity.code == code))
    return activity


async def _fill_up(chat: Dialog, code: str) -> None:
    """Other residents take every place of an activity."""
    async with chat.sessions() as session, session.begin():
        [activity] = (await session.scalars(select(Activity).where(Activity.code == code))).all()
        activity.booked = activity.capacity


async def test_said_up_front_one_message_and_a_yes(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个周六的义诊 就我一个", "join_activity", 0.94, time="周六")
        assert chat.action == "activity_confirm"
        assert "健康义诊" in chat.replies[0] and "您本人" in chat.replies[0]
        await chat.say("对的", "affirm")
        assert chat.action == "activity_booked:Y1001"
        assert "报名号 Y1001" in chat.replies[0]
        assert await _signed_up(chat) == [("健康义诊", "booked", "本人", None)]
        assert (await _activity(chat, "A202612-yizhen")).booked == 1


async def test_the_list_answered_by_part_of_a_name_then_a_yes_with_words(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("社区最近有啥活动能报名不", "join_activity", 0.88)
        assert chat.action == "activity_ask_activity"
        assert chat.replies[0].count("\n") == 1  # the question and one line of options
        assert chat.replies[0].split("\n")[1].startswith("1 银铃乐趣小课堂·健康操 12月3日周四")
        await chat.say("那个插花的吧", "cancel_booking", 0.43)
        assert chat.action == "activity_confirm" and "巧手插花" in chat.replies[0]
        await chat.say("嗯呐 报上吧 我最喜欢弄花了", "affirm", 0.15)
        assert await _signed_up(chat) == [("巧手插花", "booked", "本人", None)]


async def test_a_number_picks_from_the_list(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("我想报名社区活动", "join_activity", 0.94)
        await chat.say("2")
        assert chat.action == "activity_confirm" and "健康义诊" in chat.replies[0]


async def test_a_place_and_the_last_word_of_the_name_tell_two_apart(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("报名活动", "join_activity", 1.0)
        await chat.say("铁指江南那个 做操的", "check_status", 0.48)
        assert chat.action == "activity_confirm" and "健康操" in chat.replies[0]
        await chat.say("是 报我一个", "apply_assistive_device", 0.23)
        assert await _signed_up(chat) == [("银铃乐趣小课堂·健康操", "booked", "本人", None)]


async def test_its_day_names_it_and_a_day_without_one_says_so(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想报个名 周二那个", "join_activity", 0.89, time="周二")
        assert chat.replies[0] == "周二没有安排活动。"
        assert chat.action == "activity_ask_activity"
        await chat.say("下礼拜一那个课堂", "join_activity", 0.25)
        assert chat.action == "activity_ask_whom"  # a children's class: which child
        assert "四点半课堂" in (await _offered(chat))


async def _offered(chat: Dialog) -> str:
    state = chat.state["dialogue"]["flow"]
    titles = {str(a.id): a.title for a in await chat.scalars(select(Activity))}
    return titles.get(state["values"].get("activity", ""), "")


async def test_an_activity_not_on_offer_says_what_there_is(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个书法班", "join_activity", 0.8)
        assert chat.replies[0] == "最近没有“书法班”这个活动。"
        assert "健康义诊" in chat.replies[1]  # the list of what there is
        assert chat.action == "activity_ask_activity"


async def test_a_childrens_class_asks_which_child_and_takes_a_relation(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("四点半课堂能报名不", "join_activity", 0.8)
        assert chat.action == "activity_ask_whom" and "孩子" in chat.replies[0]
        await chat.say("给我孙女 上二年级", "join_activity", 0.19)
        assert chat.action == "activity_confirm" and "您孙女" in chat.replies[0]
        await chat.say("对 就是她", "affirm")
        assert await _signed_up(chat) == [("四点半课堂", "booked", "孙女", "我孙女")]


async def test_for_oneself_at_a_childrens_class_asks_for_the_child(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报四点半课堂 我自己去", "join_activity", 0.8)
        assert chat.action == "activity_ask_whom"
        await chat.say("我孙子", "join_activity", 0.2)
        assert chat.action == "activity_confirm" and "您孙子" in chat.replies[0]


async def test_in_pieces_the_child_first_then_the_class(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("想给孩子报个名", "join_activity", 0.83)
        assert chat.action == "activity_ask_activity"
        await chat.say("下礼拜一那个课堂", "join_activity", 0.25)
        assert chat.action == "activity_confirm" and "四点半课堂" in chat.replies[0]
        await chat.say("对 四点半那个 写作业的", "affirm", 0.31)
        assert await _signed_up(chat) == [("四点半课堂", "booked", "孩子", "孩子")]
        await chat.say("行", "affirm", 0.87)
        assert chat.action == "activity_noted:Y1001"


async def test_a_name_given_is_the_person_signed_up(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我老伴报个插花 她叫李秀英", "join_activity", 0.8, relation="老伴")
        assert "您老伴（李秀英）" in chat.replies[0]
        await chat.say("好", "affirm")
        assert await _signed_up(chat) == [("巧手插花", "booked", "李秀英", "我老伴")]


async def test_two_people_said_together_take_two_places(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("帮我报个名 周六上午的健康义诊 我和老伴俩人", "join_activity", 0.95)
        assert "您本人和您老伴（2人）" in chat.replies[0]
        await chat.say("对 两个人 谢谢", "thank", 0.75)
        assert chat.action == "activity_booked:Y1001、Y1002"
        assert await _signed_up(chat) == [
            ("健康义诊", "booked", "本人", None),
            ("健康义诊", "booked", "老伴", "老伴"),
        ]


async def test_a_correction_changes_the_activity_and_confirms_again(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报周四的插花", "join_activity", 0.3, time="周四")
        assert "巧手插花" in chat.replies[0]
        await chat.say("不对 是健康操 不是插花", "deny", 0.97)
        assert chat.action == "activity_confirm" and "健康操" in chat.replies[0]
        await chat.say("对 健康操", "affirm", 0.66)
        assert await _signed_up(chat) == [("银铃乐趣小课堂·健康操", "booked", "本人", None)]


async def test_a_correction_of_who_goes(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("帮我报个义诊", "join_activity", 0.91)
        await chat.say("不是我去 是我老伴去 给她报", "join_activity", 0.2, relation="老伴")
        assert chat.action == "activity_confirm" and "您老伴" in chat.replies[0]
        await chat.say("对", "affirm")
        assert await _signed_up(chat) == [("健康义诊", "booked", "老伴", "我老伴")]


async def test_questions_between_are_answered_from_the_activity_and_it_resumes(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("周六义诊怎么报名", "join_activity", 0.98, time="周六")
        assert chat.action == "activity_confirm"
        await chat.say("要带啥不？", "faq", 0.12)
        assert chat.action == "activity_question"
        assert "医保卡" in chat.replies[0] and "对吗" in chat.replies[0]
        await chat.say("要交钱不？", "faq", 0.19)
        assert "免费" in chat.replies[0]
        await chat.say("那给我报上吧 我一个", "apply_assistive_device", 0.21)
        assert await _signed_up(chat) == [("健康义诊", "booked", "本人", None)]


async def test_a_question_in_the_first_message_is_answered_before_the_confirmation(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("健康操在哪做啊 我想报名", "join_activity", 0.8)
        assert chat.replies[0] == "【银铃乐趣小课堂·健康操】地点：铁指江南小区党群服务站。"
        assert chat.action == "activity_confirm"
        await chat.say("坐轮椅能做不？", "apply_accessibility", 0.32)
        assert "坐着也能做" in chat.replies[0] and "转人工" in chat.replies[0]
        await chat.say("能的话给我报一个", "apply_assistive_device", 0.43)
        assert chat.action == "activity_booked:Y1001"


async def test_withdrawal_ends_it_without_a_sign_up(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("帮我报名冬至包饺子", "join_activity", 0.39)
        await chat.say("算了 不报了 那天要去闺女家", "deny", 0.7, relation="闺女")
        assert chat.action == "activity_withdrawn"
        assert await _bookings(chat) == []
        assert "dialogue" not in chat.state or chat.state["dialogue"]["flow"] is None


async def test_a_weak_reading_that_asks_to_sign_up_starts_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报周四的插花", "join_activity", 0.29, time="周四")
        assert chat.action == "activity_confirm"
    async with Dialog.open(tmp_path, user="other") as chat:
        await chat.say("给我报一下 楼道灯坏了", "join_activity", 0.29)
        # a problem, not a sign-up: the NLU is too unsure of the activity, the words say
        # something is broken, so it is a report of that light
        assert chat.action == "report_ask_location"
        assert "路灯" in chat.replies[-1]


async def test_a_full_activity_says_so_and_offers_the_others(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await _fill_up(chat, "A202612-chahua")
        await chat.say("给我报个插花", "join_activity", 0.8)
        assert chat.replies[0] == "【巧手插花】已经报满了。"
        assert chat.action == "activity_ask_activity"
        assert await _bookings(chat) == []


async def test_the_last_place_taken_meanwhile_offers_the_others(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个插花", "join_activity", 0.8)
        await _fill_up(chat, "A202612-chahua")
        await chat.say("对", "affirm")
        assert chat.action == "activity_full"
        assert "刚刚报满" in chat.replies[0] and "健康义诊" in chat.replies[0]
        await chat.say("那就义诊吧", "join_activity", 0.4)
        assert chat.action == "activity_confirm" and "健康义诊" in chat.replies[0]


async def test_signed_up_already_is_said(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个插花", "join_activity", 0.8)
        await chat.say("对", "affirm")
        await chat.say("给我报个插花", "join_activity", 0.8)
        await chat.say("对", "affirm")
        assert chat.action == "activity_duplicate"
        assert len(await _bookings(chat)) == 1


async def test_after_the_sign_up_questions_are_answered_and_cancel_frees_the_place(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("报名周六上午的义诊", "join_activity", 0.95, time="周六上午")
        await chat.say("对", "affirm")
        await chat.say("几点开始来着 在哪", "report_noise", 0.16)
        assert chat.action == "activity_answer:Y1001"
        assert "东关社区党群服务中心一楼大厅" in chat.replies[0] and "9:00" in chat.replies[0]
        await chat.say("要空腹不 测血糖", "deny", 0.14)
        assert chat.action == "activity_answer:Y1001" and "转人工" in chat.replies[0]
        await chat.say("那个义诊我去不了了 给我取消吧", "cancel_booking", 0.96)
        assert chat.action == "booking_cancelled:Y1001"
        await chat.say("是 取消", "cancel_booking", 0.78)
        assert chat.action == "activity_not_cancelled:Y1001"
        assert await _signed_up(chat) == [("健康义诊", "cancelled", "本人", None)]
        assert (await _activity(chat, "A202612-yizhen")).booked == 0


async def test_no_thanks_after_the_sign_up_does_not_cancel_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个健康操", "join_activity", 0.65)
        await chat.say("对", "affirm")
        await chat.say("好的 不用了 谢谢", "thank", 0.9)
        assert await _signed_up(chat) == [("银铃乐趣小课堂·健康操", "booked", "本人", None)]


async def test_a_cancellation_naming_another_sign_up_cancels_that_one(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        async with chat.sessions() as session, session.begin():
            resident = await get_or_create_resident(session, "generic", chat.user)
            [chahua] = (
                await session.scalars(select(Activity).where(Activity.code == "A202612-chahua"))
            ).all()
            await book_activity(session, activity_id=chahua.id, resident_id=resident.id)
        await chat.say("给我报个健康操", "join_activity", 0.65)
        await chat.say("对", "affirm")
        await chat.say("插花那个我不去了", "cancel_booking", 0.8)
        assert chat.action == "booking_cancelled:Y1001"
        statuses = {title: status for title, status, _, _ in await _signed_up(chat)}
        assert statuses == {"巧手插花": "cancelled", "银铃乐趣小课堂·健康操": "booked"}


async def test_a_new_request_after_the_sign_up_is_not_taken_as_about_it(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个健康操", "join_activity", 0.65)
        await chat.say("对", "affirm")
        await chat.say("东关中巷的路灯坏了", "report_streetlight", 0.95, location="东关中巷")
        assert chat.action == "report_confirm"


async def test_a_gas_smell_with_the_yes_files_both(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("给我报个周六的义诊", "join_activity", 0.94, time="周六")
        await chat.say(
            "对 还有 我们单元楼道一股煤气味 好像谁家漏气了 东关南巷2号楼3单元",
            "report_gas",
            0.98,
            location="东关南巷2号楼3单元",
        )
        assert chat.action is not None and chat.action.startswith("ticket_created:")
        assert "报名号 Y1001" in chat.replies[0]
        [ticket] = await chat.scalars(select(Ticket))
        assert ticket.category == "gas" and ticket.urgent
        assert await _signed_up(chat) == [("健康义诊", "booked", "本人", None)]


async def test_the_reminder_is_not_sent_again_for_a_sign_up_the_day_before(
    tmp_path: Path,
) -> None:
    async with Dialog.open(tmp_path) as chat:
        chat.now = datetime(2026, 12, 2, 17, 0, tzinfo=SHANGHAI)
        await chat.say("给我报个健康操", "join_activity", 0.65)
        await chat.say("对", "affirm")
        assert "请准时参加" in chat.replies[0]
        [booking] = await _bookings(chat)
        assert booking.reminded_at is not None


async def test_asking_what_is_on_shows_the_activities(tmp_path: Path) -> None:
    async with Dialog.open(tmp_path) as chat:
        await chat.say("最近有啥活动没", "out_of_scope", 0.25)
        assert chat.action == "activity_ask_activity"
