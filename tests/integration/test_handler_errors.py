"""A handler that crashes: the resident gets an apology, staff get the conversation, no 500."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import RUNTIME
from storage.residents import Conversation
from tests.db_helpers import fetch
from tests.support import say


async def test_a_crashing_handler_hands_the_conversation_to_staff(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client("http://127.0.0.1:9")  # the command needs no NLU

    async def explode(ctx):  # a bug in some service
        raise RuntimeError("bug")

    client.app[RUNTIME].registry.add("cmd:测试故障", explode)
    await say(client, "crash-1", "测试故障")
    reply = (await rec.wait_for("crash-1", 1))[0]
    assert "出了点问题" in reply
    notice = (await rec.wait_for("staff-liu", 1))[0]
    assert "转人工" in notice and "系统处理出错" in notice
    [conv] = await fetch(db_url, select(Conversation).where(Conversation.user_id == "crash-1"))
    assert conv.handed_off
    await say(client, "crash-1", "还在吗")  # handed off: the bot stays quiet, staff hear it
    assert "还在吗" in (await rec.wait_for("staff-liu", 2))[1]
    assert len(rec.for_user("crash-1")) == 1
