"""End to end through the generic webhook with real Redis, SQL and the trained Rasa model."""

from __future__ import annotations

import asyncio
import re

import pytest

from storage.messages import Message
from tests.db_helpers import count, tickets
from tests.support import message_body, post_signed, say

pytestmark = pytest.mark.rasa
NUMBER = re.compile(r"工单号 (\d{4,6})")
PLACES = ["东关中巷", "幸福里小区5号楼", "铁指江南小区北门", "东关南巷", "安康小区东门", "东关北街"]


async def test_street_light_report_becomes_a_ticket(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "r1", "东关中巷的路灯坏了")
    replies = await rec.wait_for("r1", 1)
    assert "路灯" in replies[0] and "东关中巷" in replies[0] and "对吗" in replies[0]
    await say(client, "r1", "1")
    replies = await rec.wait_for("r1", 2)
    number = NUMBER.search(replies[1])
    assert number, replies[1]
    [ticket] = await tickets(db_url)
    assert ticket.number == number.group(1)
    assert ticket.category == "streetlight"
    assert "东关中巷" in (ticket.location or "")
    assert ticket.status == "assigned" and ticket.grid_id is not None
    assert "李红梅" in replies[1]  # the worker of the grid that holds 东关中巷


async def test_missing_location_is_asked_for(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "r2", "楼道里的垃圾好几天没人收了")
    assert "位置" in (await rec.wait_for("r2", 1))[0]
    await say(client, "r2", "幸福里小区5号楼")
    assert "幸福里小区5号楼" in (await rec.wait_for("r2", 2))[1]
    await say(client, "r2", "对的")
    replies = await rec.wait_for("r2", 3)
    assert NUMBER.search(replies[2]), replies
    [ticket] = await tickets(db_url)
    assert ticket.category == "sanitation" and ticket.location == "幸福里小区5号楼"
    assert "王建国" in replies[2]


async def test_cancel_abandons_the_report(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "r3", "路灯又不亮了")
    await rec.wait_for("r3", 1)
    await say(client, "r3", "算了")
    assert "不报" in (await rec.wait_for("r3", 2))[1]
    assert await tickets(db_url) == []


async def test_gas_report_gets_safety_advice_first(make_client, rasa_url, receiver):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "r4", "安康小区3号楼楼道里一股很大的煤气味")
    replies = await rec.wait_for("r4", 2)
    assert "开窗通风" in replies[0]
    assert "安康小区3号楼" in replies[1]


async def test_status_lists_the_residents_own_tickets(make_client, rasa_url, receiver):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "r5", "东关北街路灯坏了好几个")
    await rec.wait_for("r5", 1)
    await say(client, "r5", "1")
    number = NUMBER.search((await rec.wait_for("r5", 2))[1])
    assert number
    await say(client, "r5", "我上周报的事情处理得怎么样了")
    reply = (await rec.wait_for("r5", 3))[2]
    assert number.group(1) in reply and "网格员" in reply
    await say(client, "other", f"查一下{number.group(1)}的进度")
    assert "没有找到" in (await rec.wait_for("other", 1))[0]  # not someone else's ticket


async def test_unsure_nlu_shows_a_numbered_menu(make_client, rasa_url, receiver):
    rec, _ = receiver
    client = await make_client(
        rasa_url, overrides={"dialogue": {"min_confidence": 1.0, "report_min_confidence": 1.0}}
    )
    # words that name no request (a broken thing, said when unsure, would start a report)
    await say(client, "r6", "东关中巷那边 你们给看看")
    menu = (await rec.wait_for("r6", 1))[0]
    assert "1 反映问题" in menu and "3 转人工" in menu
    await say(client, "r6", "第二个")
    assert "没有正在办理的事项" in (await rec.wait_for("r6", 2))[1]


async def test_redelivery_creates_nothing_new_and_no_second_reply(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "r7", "东关中巷的路灯坏了", "m-1")
    await rec.wait_for("r7", 1)
    await say(client, "r7", "1", "m-2")
    await rec.wait_for("r7", 2)
    for mid, text in (("m-1", "东关中巷的路灯坏了"), ("m-2", "1"), ("m-2", "1")):
        await say(client, "r7", text, mid)
    await asyncio.sleep(1.5)
    assert len(rec.for_user("r7")) == 2
    assert len(await tickets(db_url)) == 1
    assert await count(db_url, Message.direction == "in") == 2


async def test_each_conversation_is_processed_in_order_across_workers(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    first = await make_client(rasa_url)
    second = await make_client(rasa_url)  # a second worker on the same Redis and database
    users = [f"o{i}" for i in range(6)]

    async def converse(index: int, user: str) -> None:
        place = PLACES[index]  # different places: six tickets, not one with followers
        for step, text in enumerate((f"{place}的路灯坏了", "1", "查询一下进度")):
            client = (first, second)[(index + step) % 2]
            await say(client, user, text)

    await asyncio.gather(*(converse(i, u) for i, u in enumerate(users)))
    for user in users:
        replies = await rec.wait_for(user, 3, within=60)
        assert "对吗" in replies[0], replies
        number = NUMBER.search(replies[1])
        assert number, replies
        assert number.group(1) in replies[2], replies
    assert len(await tickets(db_url)) == len(users)


async def test_bad_text_gets_a_polite_reply(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "e1", "   ")
    assert "没有收到文字" in (await rec.wait_for("e1", 1))[0]
    await say(client, "e2", "路灯坏了" * 1250)  # 5,000 characters
    assert (await rec.wait_for("e2", 1))[0]
    await say(client, "e3", "\x01\x02\x03")
    assert (await rec.wait_for("e3", 1))[0]
    stored = await count(db_url, Message.direction == "in", Message.status == "done")
    assert stored == 3


async def test_group_chatter_is_stored_but_not_answered(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    body = message_body("g-user", "大家晚上好", chat_id="grid-group-1", is_group=True)
    assert (await post_signed(client, body)).status == 200
    body = message_body(
        "g-user", "东关中巷的路灯坏了", chat_id="grid-group-1", is_group=True, mentioned=True
    )
    assert (await post_signed(client, body)).status == 200
    assert "东关中巷" in (await rec.wait_for("g-user", 1))[0]
    await asyncio.sleep(1)  # time for a wrong answer to the chatter to arrive too
    assert len(rec.for_user("g-user")) == 1
    assert await count(db_url, Message.status == "ignored") == 1


async def test_traditional_characters_are_normalised_and_offsets_kept(
    make_client, rasa_url, receiver, db_url
):
    import json

    from sqlalchemy import select

    from tests.db_helpers import fetch

    rec, _ = receiver
    client = await make_client(rasa_url)
    original = "東關中巷的路燈壞了😭"
    await say(client, "t1", original)
    assert "东关中巷" in (await rec.wait_for("t1", 1))[0]
    [raw] = await fetch(db_url, select(Message.nlu).where(Message.direction == "in"))
    nlu = json.loads(raw)
    assert nlu["text"] == original and nlu["normalized"] == "东关中巷的路灯坏了"
    assert nlu["intent"] == "report_streetlight"
    [location] = [e for e in nlu["entities"] if e["entity"] == "location"]
    assert original[location["start"] : location["end"]] == "東關中巷"
    assert location["value"] == "东关中巷"
