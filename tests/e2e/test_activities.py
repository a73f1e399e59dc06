"""Community activities end to end: the list, sign-up, full, cancel, reminder; capacity under load."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.runtime import RUNTIME
from bot.scheduler import run_job
from nlu.timeparse import SHANGHAI
from storage.booking_places import book_activity
from storage.bookings import Activity, Booking
from storage.db import create_engine, session_factory
from storage.messages import Message
from storage.residents import get_or_create_resident
from tests.booking_support import NOW, REMINDER_JOB, bookings_of, start_at
from tests.db_helpers import fetch
from tests.support import say

NUMBER = re.compile(r"报名号 (Y\d{4,6})")


async def activity_id(sessions, code: str) -> int:
    """The id of a seeded activity."""
    async with sessions() as s:
        return (await s.scalars(select(Activity.id).where(Activity.code == code))).one()


async def small_activity(sessions, code: str, capacity: int, day: int = 2) -> int:
    """Add an activity with few places on 2026-12-<day> at 14:00."""
    async with sessions() as s, s.begin():
        activity = Activity(
            code=code, title="手机使用小课堂", place="东关社区党群服务中心二楼",
            starts_at=datetime(2026, 12, day, 14, 0, tzinfo=SHANGHAI), capacity=capacity,
            booked=0, description="教老人用手机视频通话、挂号。",
        )  # fmt: skip
        s.add(activity)
        await s.flush()
        return activity.id


async def sign_up(sessions, user: str, activity: int, **kw) -> Booking:
    """Sign a chat user up directly through the repository."""
    async with sessions() as s, s.begin():
        resident = await get_or_create_resident(s, "generic", user)
        outcome = await book_activity(s, activity_id=activity, resident_id=resident.id, **kw)
        assert outcome.status == "booked", outcome
        assert outcome.booking is not None
        return outcome.booking


async def places_taken(db_url: str, activity: int) -> int:
    """The booked counter of an activity."""
    [booked] = await fetch(db_url, select(Activity.booked).where(Activity.id == activity))
    return int(booked)


@pytest.mark.rasa
async def test_sign_up_for_the_health_check_by_its_day(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    await say(client, "j1", "周六的义诊怎么报名")
    confirm = (await rec.wait_for("j1", 1))[0]
    assert "报名【健康义诊】12月5日（周六）上午9:00-11:30" in confirm, confirm
    assert "您本人" in confirm
    await say(client, "j1", "对 谢谢")
    done = (await rec.wait_for("j1", 2))[1]
    number = NUMBER.search(done)
    assert number and "前一天会提醒" in done, done
    [booking] = await bookings_of(db_url, "j1")
    assert (booking.number, booking.kind, booking.status) == (number.group(1), "activity", "booked")
    assert (booking.person, booking.relation) == ("本人", None)
    yizhen = await activity_id(client.app[RUNTIME].sessions, "A202612-yizhen")
    assert booking.activity_id == yizhen and await places_taken(db_url, yizhen) == 1


@pytest.mark.rasa
async def test_a_full_activity_cannot_be_taken_and_the_last_place_can_go_meanwhile(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    sessions = client.app[RUNTIME].sessions
    full = await small_activity(sessions, "T-full", capacity=1, day=2)
    last = await small_activity(sessions, "T-last", capacity=1, day=4)
    await sign_up(sessions, "someone", full)
    await say(client, "j2", "社区最近有啥活动")
    listing = (await rec.wait_for("j2", 1))[0]
    assert "手机使用小课堂 12月4日周五下午2:00" in listing and "健康义诊" in listing, listing
    await say(client, "j2", "12月2日那个")
    assert "已经报满" in (await rec.wait_for("j2", 2))[1]
    await rec.wait_for("j2", 3)  # the list of what there is
    await say(client, "j2", "12月4日那个")
    assert "报名【手机使用小课堂】12月4日（周五）" in (await rec.wait_for("j2", 4))[3]
    await say(client, "j2", "给我老伴报 她叫李秀英")
    assert "您老伴（李秀英）" in (await rec.wait_for("j2", 5))[4]
    await sign_up(sessions, "quicker", last)  # someone else takes the last place meanwhile
    await say(client, "j2", "对")
    assert "刚刚报满" in (await rec.wait_for("j2", 6))[5]
    assert await bookings_of(db_url, "j2") == []
    assert [await places_taken(db_url, a) for a in (full, last)] == [1, 1]


@pytest.mark.rasa
async def test_cancel_right_after_the_sign_up_gives_the_place_back(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    await say(client, "j5", "给我报个健康操")
    await rec.wait_for("j5", 1)
    await say(client, "j5", "对")
    number = NUMBER.search((await rec.wait_for("j5", 2))[1])
    assert number
    await say(client, "j5", "那个健康操我不去了 腿疼 给我取消了吧")
    assert f"已取消报名 {number.group(1)}" in (await rec.wait_for("j5", 3))[2]
    [booking] = await bookings_of(db_url, "j5")
    assert booking.status == "cancelled"
    exercise = await activity_id(client.app[RUNTIME].sessions, "A202612-jiankangcao")
    assert await places_taken(db_url, exercise) == 0


@pytest.mark.rasa
async def test_cancel_a_sign_up_gives_the_place_back(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await start_at(make_client, rasa_url)
    sessions = client.app[RUNTIME].sessions
    yizhen = await activity_id(sessions, "A202612-yizhen")
    class_ = await activity_id(sessions, "A202612-sidianban")
    first = await sign_up(sessions, "j3", yizhen)
    second = await sign_up(sessions, "j3", class_, person="小明", relation="孩子")
    await say(client, "j3", "退掉我报的活动")
    choose = (await rec.wait_for("j3", 1))[0]
    assert first.number in choose and second.number in choose, choose
    await say(client, "j3", "1")
    assert "确定取消吗" in (await rec.wait_for("j3", 2))[1]  # the change is confirmed
    await say(client, "j3", "1")
    assert f"已取消报名 {first.number}" in (await rec.wait_for("j3", 3))[2]
    await say(client, "j3", f"取消预约 {second.number}")
    assert f"已取消报名 {second.number}" in (await rec.wait_for("j3", 4))[3]
    assert {b.status for b in await bookings_of(db_url, "j3")} == {"cancelled"}
    assert [await places_taken(db_url, a) for a in (yizhen, class_)] == [0, 0]


async def test_activity_reminder_goes_out_once(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client("http://127.0.0.1:9")  # no message is parsed here
    runtime = client.app[RUNTIME]
    exercise = await activity_id(runtime.sessions, "A202612-jiankangcao")
    booking = await sign_up(runtime.sessions, "j4", exercise)
    assert await run_job(runtime, REMINDER_JOB, now=NOW) == 0  # three days ahead
    day_before = datetime(2026, 12, 2, 16, 30, tzinfo=SHANGHAI)
    assert await run_job(runtime, REMINDER_JOB, now=day_before) == 1
    assert await run_job(runtime, REMINDER_JOB, now=day_before + timedelta(minutes=5)) == 0
    [reminder] = await rec.wait_for("j4", 1)
    assert reminder.startswith("【活动提醒】明天12月3日（周四）下午4:00，银铃乐趣小课堂·健康操")
    assert "铁指江南小区党群服务站" in reminder and booking.number in reminder
    sent = await fetch(
        db_url,
        select(func.count()).select_from(Message).where(Message.action.like("booking_reminder:%")),
    )
    assert sent == [1]


async def test_thirty_simultaneous_sign_ups_for_three_places(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    activity = await small_activity(sessions, "T-crowd", capacity=3)
    async with sessions() as s, s.begin():
        crowd = [(await get_or_create_resident(s, "generic", f"fan{i}")).id for i in range(30)]

    async def attempt(resident_id: int) -> str:
        async with sessions() as s, s.begin():
            outcome = await book_activity(s, activity_id=activity, resident_id=resident_id)
            return outcome.status

    results = await asyncio.gather(*(attempt(r) for r in crowd))
    assert results.count("booked") == 3 and results.count("full") == 27
    async with sessions() as s:
        stmt = select(func.count()).select_from(Booking).where(Booking.activity_id == activity)
        assert await s.scalar(stmt) == 3
        assert (await s.get(Activity, activity)).booked == 3
    await engine.dispose()
