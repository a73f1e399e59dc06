"""Rehab booking end to end (generic webhook, real Rasa, Redis, SQL) and capacity under load."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.runtime import RUNTIME
from bot.scheduler import run_job
from handlers.rehab.status import status_line_of, status_lines
from nlu.timeparse import SHANGHAI
from storage.booking_places import book_slot, cancel
from storage.bookings import Booking, RehabSlot, booking_item, list_bookings
from storage.db import create_engine, session_factory
from storage.messages import Message
from storage.residents import get_or_create_resident
from tests.booking_support import (
    NOW,
    NUMBER,
    REMINDER_JOB,
    THURSDAY,
    TUESDAY,
    book_for,
    bookings_of,
    fill,
    slot_booked,
    start_at,
    weekly_id,
)
from tests.db_helpers import fetch
from tests.support import say


@pytest.mark.rasa
async def test_book_for_a_relative_with_a_relative_date(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    await say(client, "b1", "想给我爸约个下周二上午的康复")
    assert "1 东关社区吉康之家" in (await rec.wait_for("b1", 1))[0]
    await say(client, "b1", "1")
    times = (await rec.wait_for("b1", 2))[1]
    assert "12月8日（周二）" in times and "1 上午9:00" in times and "2 上午10:00" in times, times
    await say(client, "b1", "1")
    confirm = (await rec.wait_for("b1", 3))[2]  # for whom was said: not asked again
    assert "12月8日（周二）上午9:00" in confirm and "您父亲" in confirm, confirm
    assert "赵敏老师" in confirm
    await say(client, "b1", "对 他叫王建华")
    done = (await rec.wait_for("b1", 4))[3]
    number = NUMBER.search(done)
    assert number and "您父亲（王建华）" in done, done
    [booking] = await bookings_of(db_url, "b1")
    assert booking.number == number.group(1) and booking.status == "booked"
    assert (booking.person, booking.relation) == ("王建华", "我爸")
    assert booking.starts_at == datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
    assert booking.reminded_at is None  # a week ahead: the reminder comes the day before


@pytest.mark.rasa
async def test_book_for_oneself_from_numbered_choices(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    await say(client, "b2", "我想预约康复训练")
    await rec.wait_for("b2", 1)
    await say(client, "b2", "2")
    times = (await rec.wait_for("b2", 2))[1]
    assert "1 12月2日（周三）上午9:00" in times and "2 12月4日（周五）上午9:00" in times, times
    assert "康复评估" not in times  # 康复训练 was asked for
    await say(client, "b2", "2")
    confirm = (await rec.wait_for("b2", 3))[2]
    assert "铁指江南吉康之家" in confirm and "您本人" in confirm and "王丽老师" in confirm
    await say(client, "b2", "对的")
    assert NUMBER.search((await rec.wait_for("b2", 4))[3])
    [booking] = await bookings_of(db_url, "b2")
    assert booking.person == "本人" and booking.relation is None
    assert booking.starts_at == datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.rasa
async def test_full_session_offers_the_nearest_open_ones(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    sessions = client.app[RUNTIME].sessions
    await fill(sessions, TUESDAY, time(9))
    await say(client, "b3", "明天上午九点约个康复")
    await rec.wait_for("b3", 1)
    await say(client, "b3", "1")
    offer = (await rec.wait_for("b3", 2))[1]
    assert "已经约满" in offer and "1 12月1日（周二）上午10:00" in offer, offer
    assert "上午9:00" not in offer.split("\n", 1)[1].split("  ")[0]
    await say(client, "b3", "1")
    assert "对吗" in (await rec.wait_for("b3", 3))[2]
    await fill(sessions, TUESDAY, time(10))  # others take the last places meanwhile
    await say(client, "b3", "对")
    sorry, again = (await rec.wait_for("b3", 5))[3:5]
    assert "约满" in sorry and "12月3日（周四）上午9:00" in again, again
    assert await bookings_of(db_url, "b3") == []
    assert await slot_booked(db_url, TUESDAY, time(10)) == 5


@pytest.mark.rasa
async def test_cancel_frees_the_place(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    booking = await book_for(client.app[RUNTIME].sessions, "c1", TUESDAY, time(9))
    await say(client, "c1", "明天的康复去不了了")
    ask = (await rec.wait_for("c1", 1))[0]
    assert booking.number in ask and "确定取消" in ask, ask
    await say(client, "c1", "对 取消吧")
    assert f"已取消预约 {booking.number}" in (await rec.wait_for("c1", 2))[1]
    [stored] = await bookings_of(db_url, "c1")
    assert stored.status == "cancelled" and stored.cancelled_at is not None
    assert await slot_booked(db_url, TUESDAY, time(9)) == 0
    await say(client, "c2", "明天的康复去不了了")  # someone with no booking
    assert "没有待参加的康复预约" in (await rec.wait_for("c2", 1))[0]


@pytest.mark.rasa
async def test_reschedule_keeps_the_number(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    sessions = client.app[RUNTIME].sessions
    first = await book_for(sessions, "m1", TUESDAY, time(9), person="李秀英", relation="我妈")
    await say(client, "m1", "康复预约能改个时间吗")
    times = (await rec.wait_for("m1", 1))[0]
    assert "1 12月1日（周二）上午10:00" in times and "12月1日（周二）上午9:00" not in times, times
    await say(client, "m1", "1")
    assert "改到 12月1日（周二）上午10:00" in (await rec.wait_for("m1", 2))[1]
    await say(client, "m1", "对")
    moved = (await rec.wait_for("m1", 3))[2]
    assert "已改到 12月1日（周二）上午10:00" in moved and first.number in moved, moved
    await say(client, "m1", f"改约 {first.number}")
    await rec.wait_for("m1", 4)
    await say(client, "m1", "周四上午")  # a day in words instead of a number
    assert "改到 12月3日（周四）上午9:00" in (await rec.wait_for("m1", 5))[4]
    await say(client, "m1", "好的")
    assert "已改到 12月3日（周四）上午9:00" in (await rec.wait_for("m1", 6))[5]
    [stored] = await bookings_of(db_url, "m1")
    assert stored.number == first.number and stored.status == "booked"
    assert stored.starts_at == datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
    assert [await slot_booked(db_url, TUESDAY, time(h)) for h in (9, 10)] == [0, 0]
    assert await slot_booked(db_url, THURSDAY, time(9)) == 1


async def test_reminder_the_day_before_goes_out_once(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client("http://127.0.0.1:9")  # no message is parsed here
    runtime = client.app[RUNTIME]
    soon = await book_for(
        runtime.sessions, "rm1", TUESDAY, time(9), person="张桂兰", relation="老伴"
    )
    later = await book_for(runtime.sessions, "rm1", THURSDAY, time(9))
    gone = await book_for(runtime.sessions, "rm2", TUESDAY, time(10))
    async with runtime.sessions() as s, s.begin():
        assert await cancel(s, await s.get(Booking, gone.id), NOW)
    assert await run_job(runtime, REMINDER_JOB, now=NOW) == 1
    assert await run_job(runtime, REMINDER_JOB, now=NOW + timedelta(minutes=5)) == 0
    [reminder] = await rec.wait_for("rm1", 1)
    assert reminder.startswith("【康复预约提醒】明天12月1日（周二）上午9:00-10:00"), reminder
    assert "老伴（张桂兰）" in reminder and soon.number in reminder
    sent = await fetch(
        db_url,
        select(func.count()).select_from(Message).where(Message.action.like("booking_reminder:%")),
    )
    assert sent == [1]
    assert (
        await run_job(runtime, REMINDER_JOB, now=datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)) == 1
    )
    assert later.number in (await rec.wait_for("rm1", 2))[1]
    assert rec.for_user("rm2") == []


@pytest.mark.rasa
async def test_staff_mark_attendance_and_others_cannot(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    sessions = client.app[RUNTIME].sessions
    came = await book_for(sessions, "a1", TUESDAY, time(9), person="王建华", relation="我爸")
    absent = await book_for(sessions, "a2", TUESDAY, time(9))
    other = await book_for(sessions, "a3", TUESDAY, time(9))
    await say(client, "staff-liu", f"签到 {came.number}")
    reply = (await rec.wait_for("staff-liu", 1))[0]
    assert f"已登记到场：{came.number} 王建华" in reply, reply
    await say(client, "leader-chen", f"缺席 {absent.number.lower()}")
    assert "已登记缺席" in (await rec.wait_for("leader-chen", 1))[0]
    await say(client, "a3", f"签到 {other.number}")  # a resident
    await say(client, "worker-li", f"签到 {other.number}")  # a grid worker
    assert "已登记" not in (await rec.wait_for("a3", 1))[0]
    assert "已登记" not in (await rec.wait_for("worker-li", 1))[0]
    statuses = {b.number: b for b in await fetch(db_url, select(Booking))}
    assert statuses[came.number].status == "attended"
    assert statuses[came.number].marked_by and statuses[came.number].marked_at
    assert statuses[absent.number].status == "no_show"
    assert statuses[other.number].status == "booked"


async def test_fifty_simultaneous_bookings_of_five_places(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        weekly = await weekly_id(s, "JK01", TUESDAY.weekday(), time(9))
        crowd = [(await get_or_create_resident(s, "generic", f"crowd{i}")).id for i in range(50)]

    async def attempt(resident_id: int) -> str:
        async with sessions() as s, s.begin():
            outcome = await book_slot(
                s, weekly_session_id=weekly, day=TUESDAY, resident_id=resident_id
            )
            return outcome.status

    results = await asyncio.gather(*(attempt(r) for r in crowd))
    assert results.count("booked") == 5 and results.count("full") == 45
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 5
        [slot] = (await s.scalars(select(RehabSlot))).all()
        assert (slot.booked, slot.capacity) == (5, 5)
    await engine.dispose()


async def test_one_place_per_person_and_slot(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    first = await book_for(sessions, "d1", TUESDAY, time(9), person="王建华", relation="我爸")
    async with sessions() as s, s.begin():
        resident = await get_or_create_resident(s, "generic", "d1")
        weekly = await weekly_id(s, "JK01", 1, time(9))
        again = await book_slot(s, weekly_session_id=weekly, day=TUESDAY,
                                resident_id=resident.id, person="王建华", relation="我爸")  # fmt: skip
        assert again.status == "duplicate"
        myself = await book_slot(s, weekly_session_id=weekly, day=TUESDAY, resident_id=resident.id)
        assert myself.status == "booked"
        assert await cancel(s, await s.get(Booking, first.id), NOW)
        rebooked = await book_slot(s, weekly_session_id=weekly, day=TUESDAY,
                                   resident_id=resident.id, person="王建华")  # fmt: skip
        assert rebooked.status == "booked"
    async with sessions() as s:
        [slot] = (await s.scalars(select(RehabSlot))).all()
        assert slot.booked == 2  # the duplicate took nothing, the cancel gave one back
    await engine.dispose()


@pytest.mark.rasa
async def test_simultaneous_confirmations_through_the_webhook(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    users = [f"w{i}" for i in range(8)]

    async def prepare(user: str) -> None:
        for step, text in enumerate(("我想预约康复训练", "1", "1"), 1):
            await say(client, user, text)
            await rec.wait_for(user, step, within=60)

    await asyncio.gather(*(prepare(u) for u in users))
    for user in users:
        assert "12月1日（周二）上午9:00" in rec.for_user(user)[-1]
    await asyncio.gather(*(say(client, u, "对") for u in users))
    answers = [(await rec.wait_for(u, 4, within=60))[3] for u in users]
    assert sum("已约好" in a for a in answers) == 5, answers
    assert sum("约满" in a for a in answers) == 3, answers
    assert await slot_booked(db_url, TUESDAY, time(9)) == 5


async def test_status_lines_and_admin_items(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    first = await book_for(sessions, "s1", TUESDAY, time(9), person="王建华", relation="我爸")
    second = await book_for(sessions, "s1", THURSDAY, time(14, 30))
    async with sessions() as s:
        lines = await status_lines(s, first.resident_id, NOW)
        assert lines == [
            f"预约 {first.number} 12月1日（周二）上午9:00 东关社区吉康之家 肢体康复训练（王建华）：已预约，请按时到站",
            f"预约 {second.number} 12月3日（周四）下午2:30 东关社区吉康之家 康复评估与指导：已预约，请按时到站",
        ]
        assert (
            await status_lines(s, first.resident_id, datetime(2026, 12, 4, tzinfo=SHANGHAI)) == []
        )
        assert (await status_line_of(s, first.resident_id, first.number.lower())) == lines[0]
        assert await status_line_of(s, first.resident_id + 1, first.number) is None
        newest, oldest = await list_bookings(s, kind="rehab")
        assert [b.number for b in await list_bookings(s, before_id=newest.id)] == [first.number]
    item = booking_item(oldest)
    assert item["number"] == first.number and item["kind"] == "rehab"
    assert item["station"] == "东关社区吉康之家" and item["status"] == "booked"
    assert item["starts_at"] == "2026-12-01T09:00:00+08:00"
    await engine.dispose()
