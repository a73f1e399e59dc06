"""Handoff to staff and complaints, end to end: 转人工, quiet bot, staff replies, release."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from storage.messages import Message
from storage.residents import Conversation
from tests.db_helpers import fetch, tickets
from tests.support import make_settings, say

pytestmark = pytest.mark.rasa
TOKEN = "admin-token-for-handoff-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def staff_client(tmp_path: Path, db_url, redis_url, receiver, rasa_url):
    """The real app (web + worker) with an admin token configured."""
    settings = make_settings(tmp_path, db_url, redis_url, rasa_url, receiver[1])
    client = TestClient(TestServer(create_app(settings.model_copy(update={"admin_token": TOKEN}))))
    await client.start_server()
    yield client
    await client.close()


async def conversation_of(db_url: str, user: str) -> Conversation:
    """The direct conversation of a user."""
    [conv] = await fetch(db_url, select(Conversation).where(Conversation.user_id == user))
    return conv


async def processed(db_url: str, conversation_id: int, count: int, within: float = 30) -> None:
    """Wait until a conversation has count inbound messages processed (done)."""
    deadline = time.monotonic() + within
    stmt = select(func.count()).select_from(Message)
    stmt = stmt.where(
        Message.conversation_id == conversation_id,
        Message.direction == "in",
        Message.status == "done",
    )
    while (await fetch(db_url, stmt))[0] < count:
        assert time.monotonic() < deadline, f"conversation {conversation_id} not processed"
        await asyncio.sleep(0.2)


async def outbound(db_url: str, conversation_id: int) -> list[str]:
    """Texts the bot queued in a conversation, in order."""
    stmt = select(Message.text).where(
        Message.conversation_id == conversation_id, Message.direction == "out"
    )
    return [t or "" for t in await fetch(db_url, stmt.order_by(Message.id))]


async def test_handoff_quiet_staff_reply_and_release(staff_client, receiver, db_url):
    rec, _ = receiver
    client = staff_client
    await say(client, "h1", "转人工")
    assert "工作人员" in (await rec.wait_for("h1", 1))[0]
    notice = (await rec.wait_for("staff-liu", 1))[0]
    conv = await conversation_of(db_url, "h1")
    assert conv.handed_off and f"释放 H{1000 + conv.id}" in notice

    await say(client, "h1", "东关中巷的路灯坏了")  # the bot stays quiet while staff hold it
    await processed(db_url, conv.id, 2)
    assert len(await outbound(db_url, conv.id)) == 1
    assert "东关中巷的路灯坏了" in (await rec.wait_for("staff-liu", 2))[1]  # passed on to staff
    actions = await fetch(
        db_url,
        select(Message.action)
        .where(Message.conversation_id == conv.id, Message.direction == "in")
        .order_by(Message.id),
    )
    assert actions == ["handoff", "handed_off"]

    listed = await (await client.get("/api/conversations?handed_off=true", headers=AUTH)).json()
    assert [item["id"] for item in listed["items"]] == [conv.id]
    history = await client.get(f"/api/conversations/{conv.id}/messages?reveal=true", headers=AUTH)
    assert "东关中巷的路灯坏了" in [m["text"] for m in (await history.json())["items"]]

    resp = await client.post(
        f"/api/conversations/{conv.id}/reply",
        json={"text": "您好，路灯的事我们明天去看。"},
        headers=AUTH,
    )
    assert resp.status == 201, await resp.text()
    assert "路灯的事我们明天去看" in (await rec.wait_for("h1", 2))[1]

    resp = await client.post(f"/api/conversations/{conv.id}/release", headers=AUTH)
    assert resp.status == 200 and not (await resp.json())["conversation"]["handed_off"]
    assert "人工服务已结束" in (await rec.wait_for("h1", 3))[2]
    await say(client, "h1", "东关中巷的路灯坏了")
    assert "对吗" in (await rec.wait_for("h1", 4))[3]  # the bot answers again


async def test_staff_release_from_chat(staff_client, receiver, db_url):
    rec, _ = receiver
    await say(staff_client, "h2", "我要跟社区工作人员说")
    await rec.wait_for("h2", 1)
    conv = await conversation_of(db_url, "h2")
    assert conv.handed_off
    await say(staff_client, "worker-li", f"释放 H{1000 + conv.id}")  # a grid worker may not
    await say(staff_client, "staff-liu", f"释放 H{1000 + conv.id}")
    assert "已释放" in (await rec.wait_for("staff-liu", 2))[-1]
    assert "人工服务已结束" in (await rec.wait_for("h2", 2))[1]
    assert not (await conversation_of(db_url, "h2")).handed_off


async def test_three_misunderstandings_in_a_row_hand_over(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url, overrides={"dialogue": {"min_confidence": 1.0}})
    for n, text in enumerate(("嗯嗯那个啥", "就是那个事", "你听懂没有"), start=1):
        await say(client, "h3", text)
        await rec.wait_for("h3", n)
    replies = rec.for_user("h3")
    assert "3 转人工" in replies[0] and "3 转人工" in replies[1]
    assert "转接" in replies[2]
    assert "连续3次" in (await rec.wait_for("staff-liu", 1))[0]
    assert (await conversation_of(db_url, "h3")).handed_off


async def test_complaint_is_a_staff_ticket_with_masked_history(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "h4", "你好")
    await rec.wait_for("h4", 1)
    await say(client, "h4", "我要投诉")
    assert "投诉" in (await rec.wait_for("h4", 2))[1]
    await say(client, "h4", "打了三次电话都说马上来，到现在也没来人，我电话13912345678")
    assert "对吗" in (await rec.wait_for("h4", 3))[2]  # what happened, confirmed once
    await say(client, "h4", "对 麻烦你们了")
    reply = (await rec.wait_for("h4", 4))[3]
    [ticket] = await tickets(db_url)
    assert ticket.number in reply and "刘芳" in reply
    assert ticket.category == "complaint" and ticket.status == "assigned"
    details = json.loads(ticket.details or "{}")
    texts = [entry["text"] for entry in details["history"]]
    assert texts[0] == "你好" and "我要投诉" in texts and len(texts) == 6
    assert "13912345678" not in (ticket.details or "") + ticket.description
    assert "139****5678" in ticket.description
    card = (await rec.wait_for("staff-liu", 1))[0]
    assert ticket.number in card and "13912345678" not in card


async def test_admin_api_is_closed_without_the_token(make_client, rasa_url, db_url):
    client = await make_client(rasa_url)  # no LINLI_ADMIN_TOKEN configured
    for headers in ({}, AUTH, {"Authorization": "Bearer "}):
        resp = await client.get("/api/conversations", headers=headers)
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_admin_api_checks_token_and_bodies(staff_client, receiver, db_url):
    client = staff_client
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await client.get("/api/conversations", headers=wrong)).status == 401
    assert (await client.post("/api/conversations/1/release")).status == 401
    bad = await client.get("/api/conversations?handed_off=maybe", headers=AUTH)
    assert bad.status == 400 and "handed_off" in (await bad.json())["error"]["message"]
    assert (await client.post("/api/conversations/999/release", headers=AUTH)).status == 404

    await say(client, "h5", "在吗")
    await receiver[0].wait_for("h5", 1)
    conv = await conversation_of(db_url, "h5")
    url = f"/api/conversations/{conv.id}/reply"
    not_held = await client.post(url, json={"text": "您好"}, headers=AUTH)
    assert not_held.status == 409  # the bot holds it: staff hand it off first
    for body in (b"not json", b"[]", b'{"text": 5}', b'{"text": "  "}', b"{}"):
        resp = await client.post(url, data=body, headers=AUTH)
        assert resp.status == 400, body
        assert (await resp.json())["error"]["message"]
