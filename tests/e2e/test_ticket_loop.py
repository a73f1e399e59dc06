"""The closed loop through chat: report → task card → 接单 → 到场 → 完成 → rating, real Rasa."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import select

from storage.tickets import Ticket, TicketEvent, TicketFollower
from tests.db_helpers import fetch, tickets
from tests.support import say

pytestmark = pytest.mark.rasa
NUMBER = re.compile(r"工单号 (\d{4,6})")


async def report(client, rec, user: str, text: str, confirm: bool = True) -> str:
    """A resident reports a problem with its place and confirms; return the ticket number."""
    before = len(rec.for_user(user))
    await say(client, user, text)
    replies = await rec.wait_for(user, before + 1)
    if confirm:
        assert "对吗" in replies[-1], replies
        await say(client, user, "1")
        replies = await rec.wait_for(user, before + 2)
    found = NUMBER.search(replies[-1]) or re.search(r"工单号 (\d{4,6})", "".join(replies))
    assert found, replies
    return found.group(1)


async def events(db_url: str, number: str) -> list[str]:
    """The kinds and target states of a ticket's events, in order."""
    rows = await fetch(
        db_url,
        select(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.number == number)
        .order_by(TicketEvent.id),
    )
    return [f"{e.kind}:{e.to_status or ''}" for e in rows]


async def test_the_whole_loop_from_report_to_rating(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await report(client, rec, "res-a", "东关中巷3号楼门口的路灯坏了")
    card = (await rec.wait_for("worker-li", 1))[0]
    assert number in card and "路灯" in card and "东关中巷" in card
    assert f"接单 {number}" in card and "接单后可见" in card

    await say(client, "worker-li", f"接单 {number}")
    assert "已接单" in (await rec.wait_for("worker-li", 2))[1]
    assert "李红梅接单" in (await rec.wait_for("res-a", 3))[2]
    await say(client, "worker-li", f"到场 {number}")
    assert "到现场" in (await rec.wait_for("res-a", 4))[3]
    await say(client, "worker-li", f"完成 {number} 已更换灯泡")
    update = (await rec.wait_for("res-a", 5))[4]
    assert "已更换灯泡" in update and "1–5" in update

    await say(client, "res-a", "5")
    assert "谢谢您的评价" in (await rec.wait_for("res-a", 6))[5]
    [ticket] = await tickets(db_url)
    assert ticket.status == "closed" and ticket.rating == 5 and not ticket.callback_needed
    assert ticket.accepted_at and ticket.resolved_at and ticket.closed_at
    assert await events(db_url, number) == [
        "created:assigned",
        "status:accepted",
        "status:in_progress",
        "status:resolved",
        "rated:",
        "status:closed",
    ]


async def test_a_low_rating_asks_staff_to_call_back(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await report(client, rec, "res-b", "幸福里小区5号楼下水道堵了")
    await rec.wait_for("worker-wang", 1)
    await say(client, "worker-wang", f"完成 {number} 已疏通")
    assert "请先接单" in (await rec.wait_for("worker-wang", 2))[1]  # not accepted yet
    await say(client, "worker-wang", f"接单 {number}")
    await rec.wait_for("worker-wang", 3)
    await say(client, "worker-wang", f"完成 {number} 已疏通")
    await rec.wait_for("res-b", 4)
    await say(client, "res-b", "不满意")
    assert "回访" in (await rec.wait_for("res-b", 5))[4]
    assert number in (await rec.wait_for("staff-liu", 1))[0]
    [ticket] = await tickets(db_url)
    assert ticket.rating == 2 and ticket.callback_needed and ticket.status == "closed"


async def test_a_worker_cannot_act_on_another_grids_ticket(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await report(client, rec, "res-c", "东关北街有个井盖不见了")
    await say(client, "worker-wang", f"接单 {number}")
    assert "不是您负责" in (await rec.wait_for("worker-wang", 1))[0]
    [ticket] = await tickets(db_url)
    assert ticket.status == "assigned"
    await say(client, "res-c", f"接单 {number}")  # a resident is no worker: not a command
    await rec.wait_for("res-c", 3)
    [ticket] = await tickets(db_url)
    assert ticket.status == "assigned"


async def test_hand_back_and_leader_dispatch(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await report(client, rec, "res-d", "东关南巷路面塌了个大坑")
    await rec.wait_for("worker-li", 1)
    await say(client, "worker-li", f"转派 {number} 需要市政的挖掘机")
    assert "申请转派" in (await rec.wait_for("worker-li", 2))[1]
    note = (await rec.wait_for("leader-chen", 1))[0]
    assert "挖掘机" in note and f"派单 {number}" in note
    await say(client, "worker-wang", f"派单 {number} 王建国")  # only leaders and staff dispatch
    assert "不是您负责" in (await rec.wait_for("worker-wang", 1))[0]
    await say(client, "leader-chen", f"派单 {number} 王建国")
    assert "已派给王建国" in (await rec.wait_for("leader-chen", 2))[1]
    assert number in (await rec.wait_for("worker-wang", 2))[1]
    await say(client, "worker-wang", "我的任务")
    assert number in (await rec.wait_for("worker-wang", 3))[2]
    [ticket] = await tickets(db_url)
    assert ticket.status == "assigned"
    assert await events(db_url, number) == [
        "created:assigned",
        "status:submitted",
        "status:assigned",
    ]


async def test_gas_is_filed_at_once_and_pushed_to_the_unit(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "res-e", "东关中巷2号楼楼道里一股煤气味")
    replies = await rec.wait_for("res-e", 2)
    assert "燃气" in replies[0] and "开窗" in replies[0]
    assert NUMBER.search(replies[1]), replies  # no confirmation round-trip
    assert "紧急" in (await rec.wait_for("worker-li", 1))[0]
    assert "紧急" in (await rec.wait_for("unit-gas", 1))[0]
    [ticket] = await tickets(db_url)
    assert ticket.urgent and ticket.category == "gas"
    minutes = (ticket.accept_due_at - ticket.created_at).total_seconds() / 60
    assert minutes == 10


async def test_same_problem_twice_is_linked_and_both_hear(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await report(client, rec, "res-f", "安康小区东门的路灯不亮了")
    await say(client, "res-g", "安康小区东门口路灯坏了")
    await rec.wait_for("res-g", 1)
    await say(client, "res-g", "1")
    linked = (await rec.wait_for("res-g", 2))[1]
    assert number in linked and "已经有居民反映" in linked
    assert len(await tickets(db_url)) == 1
    assert len(await fetch(db_url, select(TicketFollower))) == 1
    await say(client, "worker-li", f"接单 {number}")
    assert "接单" in (await rec.wait_for("res-g", 3))[2]
    assert "接单" in (await rec.wait_for("res-f", 3))[2]
    await say(client, "res-g", "查询")
    assert number in (await rec.wait_for("res-g", 4))[3]


async def test_simultaneous_reports_of_one_problem_make_one_ticket(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    first = await make_client(rasa_url)
    second = await make_client(rasa_url)  # two workers on the same Redis and database
    users = [f"same-{i}" for i in range(5)]
    await asyncio.gather(*(say(first, u, "铁指江南小区北门路灯坏了") for u in users))
    for user in users:
        await rec.wait_for(user, 1)
    await asyncio.gather(*(say((first, second)[i % 2], u, "1") for i, u in enumerate(users)))
    for user in users:
        await rec.wait_for(user, 2)
    assert len(await tickets(db_url)) == 1
    assert len(await fetch(db_url, select(TicketFollower))) == len(users) - 1
    assert len(rec.for_user("worker-zhang")) == 1  # one task card, not five
