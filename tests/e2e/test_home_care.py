"""Home care end to end through the generic webhook with real Rasa, Redis and SQL."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from handlers.home_care import order_status_line, status_lines
from storage.accounts import AuditEntry
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.home_care import CareElder, CareOrder, booked_minutes, month_of
from storage.home_care_orders import adjust_quota
from storage.residents import get_or_create_resident
from tests.db_helpers import fetch, tickets
from tests.support import Receiver, say

ORDER = re.compile(r"订单号 (J\d{4,6})")
ANSWERS = {"哪项上门服务": "1", "什么时候上门": "明天上午"}


async def views_audited(db_url: str) -> list[tuple[str, str]]:
    """Who (provider, worker …) saw whose personal details: the audit log's views."""
    rows = await fetch(db_url, select(AuditEntry).where(AuditEntry.action == "view_personal"))
    return [(e.actor.split(":")[0], e.target) for e in rows]


async def converse(client: TestClient, rec: Receiver, user: str, text: str) -> str:
    """Say something, answer the bot's item and time questions, return its next other reply."""
    for _ in range(4):
        seen = len(rec.for_user(user))
        await say(client, user, text)
        reply = (await rec.wait_for(user, seen + 1))[-1]
        text = next((a for q, a in ANSWERS.items() if q in reply), "")
        if not text:
            return reply
    raise AssertionError(f"{user}: the bot kept asking: {rec.for_user(user)}")


async def ask(client: TestClient, rec: Receiver, user: str, text: str) -> str:
    """Say something and return the bot's next message to that user."""
    seen = len(rec.for_user(user))
    await say(client, user, text)
    return (await rec.wait_for(user, seen + 1))[seen]


async def wait_text(rec: Receiver, user: str, needle: str) -> list[str]:
    """Wait until a user has received a message containing needle; return all they received."""
    count = 1
    while True:
        got = await rec.wait_for(user, count)
        if any(needle in text for text in got):
            return got
        count = len(got) + 1


async def order(db_url: str, number: str) -> CareOrder:
    """The order with this number, read fresh."""
    [found] = await fetch(db_url, select(CareOrder).where(CareOrder.number == number))
    return found


async def booked_of(db_url: str, elder_id: int, month: str) -> int:
    """Minutes booked for an elder in a month, read fresh."""
    engine = create_engine(db_url)
    async with session_factory(engine)() as s:
        minutes = await booked_minutes(s, elder_id, month)
    await engine.dispose()
    return minutes


async def book(db_url: str, elder_name: str, minutes: int) -> None:
    """Use up some of an elder's quota this month and next (the visit may fall in either)."""
    engine = create_engine(db_url)
    async with session_factory(engine)() as s, s.begin():
        elder = (await s.scalars(select(CareElder).where(CareElder.name == elder_name))).one()
        for month in {month_of(utcnow()), month_of(utcnow() + timedelta(days=2))}:
            await adjust_quota(s, elder, month, minutes)
    await engine.dispose()


@pytest.mark.rasa
async def test_request_claim_visit_complete_review(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    confirm = await converse(client, rec, "r-elder-1", "明天上午能派人来给我做个饭吗")
    assert (
        "赵桂兰" in confirm and "【做饭】" in confirm and re.search(r"\d+月还剩 30 小时", confirm)
    )
    created = await ask(client, rec, "r-elder-1", "对 麻烦了")
    number = ORDER.search(created)
    assert number, created
    n = number.group(1)
    for provider in ("provider-a", "provider-b"):
        card = (await rec.wait_for(provider, 1))[0]
        assert (
            f"抢单 {n}" in card and "赵**" in card and "3号楼" not in card
        )  # masked until claimed
    await say(client, "provider-a", f"抢单 {n}")
    claimed = (await rec.wait_for("provider-a", 2))[-1]
    assert "抢单成功" in claimed and "东关中巷3号楼2单元101" in claimed and "13900000201" in claimed
    assert await views_audited(db_url) == [("provider", f"order:{n}")]  # the claimed-order card
    assert "康乐居家养老服务中心接单" in (await wait_text(rec, "r-elder-1", "已由"))[-1]

    engine = create_engine(db_url)
    async with session_factory(engine)() as s:
        daughter = await get_or_create_resident(s, "generic", "daughter-1")
        await s.commit()
        stranger = await get_or_create_resident(s, "generic", "stranger-1")
        await s.commit()
        lines = await status_lines(s, daughter.id)  # she is linked to her mother
        one = await order_status_line(s, daughter.id, n)
        hidden = await order_status_line(s, stranger.id, n)
        assert await status_lines(s, stranger.id) == []
    await engine.dispose()
    assert lines == [f"居家养老 {n}【做饭】赵桂兰：康乐居家养老服务中心已接单，等待上门"]
    assert one == lines[0] and hidden is None

    await say(client, "provider-b", f"上门 {n}")
    assert "不是贵机构" in (await rec.wait_for("provider-b", 2))[-1]
    await say(client, "provider-a", f"上门 {n}")
    assert "正在提供【做饭】" in (await wait_text(rec, "r-elder-1", "已上门"))[-1]
    await say(client, "provider-a", f"完工 {n} 2.5小时 已做饭 https://img.example/j1.jpg")
    assert "已记录完工" in (await rec.wait_for("provider-a", 4))[-1]
    done = (await wait_text(rec, "r-elder-1", "服务已完成"))[-1]
    assert (
        "服务已完成" in done and "服务 2.5 小时" in done and re.search(r"\d+月还剩 27.5 小时", done)
    )
    assert f"回访 {n}" in (await rec.wait_for("staff-liu", 1))[-1]
    assert (await views_audited(db_url))[1:] == [("worker", f"order:{n}")]  # phone to call back
    await say(client, "staff-liu", f"回访 {n} 满意 饭菜可口")
    assert "已记录回访" in (await rec.wait_for("staff-liu", 2))[-1]
    final = await order(db_url, n)
    assert (final.status, final.worked_minutes, final.callback_result) == ("reviewed", 150, "满意")
    assert final.review_note == "饭菜可口"


@pytest.mark.rasa
async def test_two_providers_claim_at_once_one_wins(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await converse(client, rec, "r-elder-1", "明天上午能派人来给我做个饭吗")
    n = ORDER.search(await ask(client, rec, "r-elder-1", "对"))
    assert n
    await asyncio.gather(
        *(say(client, p, f"抢单 {n.group(1)}") for p in ("provider-a", "provider-b"))
    )
    answers = [(await rec.wait_for(p, 2))[-1] for p in ("provider-a", "provider-b")]
    assert sum("抢单成功" in a for a in answers) == 1
    assert sum("已被其他机构接单" in a for a in answers) == 1
    assert (await order(db_url, n.group(1))).status == "claimed"
    winner = "provider-a" if "抢单成功" in answers[0] else "provider-b"
    await say(client, "daughter-9", f"取消订单 {n.group(1)}")
    assert "没有找到您名下的订单" in (await rec.wait_for("daughter-9", 1))[0]
    await wait_text(rec, "r-elder-1", "已由")  # the claim was pushed to her
    assert "已取消订单" in await ask(client, rec, "r-elder-1", f"取消订单 {n.group(1)}")
    assert "已由申请人取消" in (await rec.wait_for(winner, 3))[-1]
    cancelled = await order(db_url, n.group(1))
    assert cancelled.status == "cancelled"
    assert await booked_of(db_url, cancelled.elder_id, cancelled.quota_month) == 0


@pytest.mark.rasa
async def test_quota_exhausted_is_refused_with_hours_left_and_a_ticket(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    await book(db_url, "孙淑珍", 9 * 60 + 30)  # grade 丙: 10 hours a month
    client = await make_client(rasa_url)
    reply = await converse(client, rec, "son-3", "明天上午能来人给我妈做饭吗")
    assert "只剩 0.5 小时" in reply and "丙级每月 10 小时" in reply and "工单号" in reply
    [ticket] = await tickets(db_url)
    assert ticket.category == "home_care" and json.loads(ticket.details or "{}")["reason"] == (
        "quota_exhausted"
    )
    assert ticket.number in (await rec.wait_for("staff-liu", 1))[-1]
    assert await fetch(db_url, select(CareOrder)) == []


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("stranger-9", "not_registered"),
        ("r-elder-1", "not_registered"),  # on file herself, her father is not
    ],
)
async def test_an_elder_not_on_file_is_asked_about_then_filed_for_assessment(
    make_client, rasa_url, receiver, db_url, user, reason
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    first = await ask(client, rec, user, "想给我爸申请居家养老上门服务")
    assert "多大年纪" in first and "没有登记" not in first  # whom first, never refused
    confirm = await ask(client, rec, user, "他80了 一个人住 东关南巷7号 想要人帮着做饭")
    assert "80岁" in confirm and "东关南巷7号" in confirm and "做饭" in confirm
    reply = await ask(client, rec, user, "对 电话13700006666")
    [ticket] = await tickets(db_url)
    assert ticket.category == "home_care" and str(ticket.number) in reply
    assert ticket.location == "东关南巷7号" and "13700006666" in (ticket.description or "")
    assert json.loads(ticket.details or "{}")["reason"] == reason
    assert ticket.number in (await rec.wait_for("staff-liu", 1))[-1]


@pytest.mark.rasa
async def test_an_elder_on_file_but_not_eligible_gets_the_policy_and_an_assessment(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    offer = await ask(client, rec, "son-4", "想给我爸申请居家养老上门服务")
    assert "周德明" in offer and "不在服务名单" in offer and "特困、低保、优抚" in offer
    assert await tickets(db_url) == []  # nothing filed before the resident agrees
    reply = await ask(client, rec, "son-4", "对")
    [ticket] = await tickets(db_url)
    assert ticket.category == "home_care" and str(ticket.number) in reply
    assert json.loads(ticket.details or "{}")["reason"] == "not_eligible"
    assert await fetch(db_url, select(CareOrder)) == []


@pytest.mark.rasa
async def test_requester_of_two_elders_picks_one_by_number(make_client, rasa_url, receiver):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "daughter-1", "我要申请居家养老上门服务")
    ask = (await rec.wait_for("daughter-1", 1))[0]
    assert "1 赵桂兰（母亲）" in ask and "2 钱福生（父亲）" in ask
    reply = await converse(client, rec, "daughter-1", "2")
    assert "钱福生" in reply and re.search(r"\d+月还剩 20 小时", reply)
    seen = len(rec.for_user("daughter-1"))
    await say(client, "daughter-1", "取消")
    await say(client, "daughter-1", "我要申请居家养老上门服务")
    assert "1 赵桂兰" in (await rec.wait_for("daughter-1", seen + 2))[-1]
    reply = await converse(client, rec, "daughter-1", "我妈")  # a relation picks the elder too
    assert "赵桂兰" in reply and re.search(r"\d+月还剩 30 小时", reply)


@pytest.mark.rasa
async def test_policy_answer_offers_to_apply(make_client, rasa_url, receiver):
    rec, _ = receiver
    client = await make_client(rasa_url)
    answer = await ask(client, rec, "r-elder-1", "哪些老人可以申请居家养老服务")
    assert "回复 1" in answer
    reply = await converse(client, rec, "r-elder-1", "1")  # the offer starts the request
    assert "为赵桂兰申请上门【做饭】" in reply
