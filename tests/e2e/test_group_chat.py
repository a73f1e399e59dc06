"""Group-chat manners through the generic connector and the real Rasa model."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from storage.messages import Message
from tests.conftest_platforms import outbox_idle
from tests.db_helpers import fetch
from tests.support import message_body, post_signed

pytestmark = pytest.mark.rasa
GROUP = "grid-group-G01"


async def in_group(client, user: str, text: str, mentioned: bool = False) -> None:
    body = message_body(user, text, uuid.uuid4().hex, chat_id=GROUP, is_group=True,
                        mentioned=mentioned, user_name="王阿姨")  # fmt: skip
    assert (await post_signed(client, body)).status == 200


def posts(rec, user: str, chat_id: str) -> list[str]:
    return [p["text"] for p in rec.posts if p["user_id"] == user and p["chat_id"] == chat_id]


async def inbound(db_url: str, user_texts: list[str]) -> list[Message]:
    rows = await fetch(db_url, select(Message).where(Message.direction == "in"))
    return [m for m in rows if m.text in user_texts]


async def test_chatter_is_parsed_but_not_answered(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    chatter = ["大家晚上好", "吃了吗", "明天一起去跳广场舞吧"]
    for text in chatter:
        await in_group(client, "g-wang", text)
    await in_group(client, "g-wang", "你好", mentioned=True)  # processed after the chatter
    [answer] = await rec.wait_for("g-wang", 1)
    assert answer.startswith("@王阿姨 ")
    stored = await inbound(db_url, chatter)
    assert len(stored) == 3
    assert all(m.status == "ignored" and m.action == "group_quiet" for m in stored)
    assert all(m.intent for m in stored)  # parsed all the same ("大家晚上好" looks like noise)
    assert posts(rec, "g-wang", GROUP) == [answer]
    await outbox_idle(db_url)


async def test_a_confident_report_is_taken_up_and_ticket_details_go_private(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await in_group(client, "g-li", "东关中巷的路灯坏了")  # no mention, but a clear report
    [confirm] = await rec.wait_for("g-li", 1)
    assert confirm.startswith("@王阿姨 ") and "东关中巷" in confirm and "对吗" in confirm
    await in_group(client, "g-li", "1")  # the answer to the bot's question, no mention
    replies = await rec.wait_for("g-li", 3)
    group_side = posts(rec, "g-li", GROUP)
    direct = posts(rec, "g-li", "g-li")
    assert len(group_side) == 2 and "私信" in group_side[1] and group_side[1].startswith("@王阿姨")
    assert len(direct) == 1 and re.search(r"工单号 \d+", direct[0])
    assert not any("工单号" in text for text in group_side)
    assert len(replies) == 3
    await outbox_idle(db_url)


async def test_a_question_to_another_member_is_not_taken_from_chatter(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await in_group(client, "g-zhao", "东关中巷的路灯坏了", mentioned=True)
    await rec.wait_for("g-zhao", 1)
    await in_group(client, "g-zhao", "今天天气真好啊")  # chatter while the bot waits: quiet
    await in_group(client, "g-zhao", "取消")  # cancelling needs no mention
    replies = await rec.wait_for("g-zhao", 2)
    assert replies[1].startswith("@王阿姨 ") and "不报" in replies[1]
    [weather] = await inbound(db_url, ["今天天气真好啊"])
    assert weather.status == "ignored"
    await outbox_idle(db_url)
