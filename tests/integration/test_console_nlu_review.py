"""The console's NLU review page: doubtful messages shown masked and escaped, relabelled by form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.app import create_app
from bot.runtime import RUNTIME
from storage.messages import Message, store_inbound
from storage.nlu_review import NluCorrection
from storage.residents import get_or_create_conversation
from tests.db_helpers import fetch
from tests.support import console_login, make_settings

TOKEN = "bootstrap-admin-token-for-review-tests-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "a-long-password-1"
DOUBTFUL = "我家电话13812345678<script>alert(1)</script>那个灯"


@pytest.fixture
async def console(
    tmp_path: Path, db_url: str, redis_url: str, receiver: Any
) -> AsyncIterator[TestClient]:
    """The app with one doubtful and one confident message, and a staff and a grid-worker user."""
    settings = make_settings(tmp_path, db_url, redis_url, "http://127.0.0.1:9", receiver[1])
    client = TestClient(TestServer(create_app(settings.model_copy(update={"admin_token": TOKEN}))))
    await client.start_server()
    async with client.app[RUNTIME].sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "r1", "r1")
        for n, (text, intent, confidence) in enumerate(
            [(DOUBTFUL, "nlu_fallback", 0.31), ("东关中巷路灯坏了", "report_streetlight", 0.97)]
        ):
            message = await store_inbound(session, conversation_id=conv.id, platform="generic",
                                          platform_msg_id=f"m{n}", text=text)  # fmt: skip
            assert message is not None
            await session.execute(update(Message).where(Message.id == message.id)
                                  .values(intent=intent, confidence=confidence))  # fmt: skip
    for name, role, extra in [
        ("liufang", "staff", {}),
        ("li", "grid_worker", {"worker": "李红梅"}),
    ]:
        body = {"username": name, "role": role, "password": PASSWORD, **extra}
        assert (await client.post("/api/users", json=body, headers=ADMIN)).status == 200
    yield client
    await client.close()


async def test_staff_relabel_a_doubtful_message_from_the_console(console, db_url):
    assert (await console.get("/admin/nlu/review", allow_redirects=False)).status == 303
    await console_login(console, "liufang", PASSWORD)
    page = await (await console.get("/admin/nlu/review")).text()
    assert "13812345678" not in page and "<script>alert" not in page  # masked and escaped
    assert "&lt;script&gt;" in page and "东关中巷路灯坏了" not in page  # only the unsure one
    [number] = re.findall(r'action="/admin/nlu/review/(\d+)"', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    form = f"/admin/nlu/review/{number}"
    assert (await console.post(form, data={"intent": "report_streetlight"})).status == 403
    wrong = await console.post(form, data={"csrf": csrf.group(1), "intent": "drop_tables"})
    assert "请选择一个有效的意图" in await wrong.text()
    assert await fetch(db_url, select(NluCorrection.intent)) == []
    done = await console.post(form, data={"csrf": csrf.group(1), "intent": "report_streetlight"})
    assert done.status == 200 and "没有需要复核的消息" in await done.text()
    assert await fetch(db_url, select(NluCorrection.intent)) == ["report_streetlight"]
    missing = await console.post("/admin/nlu/review/²", data={"csrf": csrf.group(1),
                                                             "intent": "greet"})  # fmt: skip
    assert missing.status == 404
    exported = await (await console.get("/api/nlu/corrections.yml", headers=ADMIN)).text()
    assert "report_streetlight" in exported and "13812345678" not in exported


async def test_grid_workers_may_not_review(console):
    await console_login(console, "li", PASSWORD)
    assert (await console.get("/admin/nlu/review")).status == 403
    assert (await console.post("/admin/nlu/review/1", data={"intent": "greet"})).status == 403
