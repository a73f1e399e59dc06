"""A task pushed to a grid worker on WeCom arrives as a textcard that opens the task page.

Other platforms keep the text card (with its link line); the card is stored as data on the
outbound message, never parsed back out of the text.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from bot.connectors.wecom.connector import textcard
from storage.cards import TaskCard
from storage.community import Worker
from storage.db import create_engine, session_factory
from storage.messages import Message
from tests import fake_wecom as wecom
from tests.conftest_platforms import outbox_idle
from tests.db_helpers import fetch, tickets
from tests.fake_wecom import textcard_problem
from tests.support import LINK_KEY

PATH = "/webhooks/wecom"
WORKER = "li-hongmei"  # 李红梅's WeCom member id in these tests
KEYED = {"LINLI_SECRET_KEY": LINK_KEY}


async def post(client, user: str, text: str) -> None:
    """A member's text message through the encrypted callback."""
    query, body = wecom.callback(wecom.text_fields(user, text))
    resp = await client.post(PATH, params=query, data=body)
    assert resp.status == 200


async def move_worker_to_wecom(db_url: str) -> None:
    """李红梅 (grid G01, worker-li in the demo seed) now works from WeCom."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                update(Worker)
                .where(Worker.platform_user_id == "worker-li")
                .values(platform="wecom", platform_user_id=WORKER)
            )
    finally:
        await engine.dispose()


@pytest.mark.rasa
async def test_a_report_reaches_the_worker_as_a_textcard_whose_link_opens(
    platform_client, fake_wecom_api, rasa_url, db_url
):
    fake, _ = fake_wecom_api
    await move_worker_to_wecom(db_url)
    client = await platform_client(rasa_url, extra_env=KEYED)
    await post(client, "wecom-resident", "东关中巷3号楼门口的路灯坏了")
    await fake.wait_for(1, within=60)
    assert "对吗" in fake.to("wecom-resident")[-1], fake.to("wecom-resident")
    await post(client, "wecom-resident", "1")
    while not fake.cards_to(WORKER):
        await fake.wait_for(len(fake.sends) + 1, within=60)
    [ticket] = await tickets(db_url)
    [card] = fake.cards_to(WORKER)
    assert fake.to(WORKER) == []  # the task went as a card, not as text
    assert fake.bad_cards == [] and textcard_problem(card) is None
    assert ticket.number in card["title"] and "路灯" in card["title"]
    assert "东关中巷" in card["description"] and "接单后可见" in card["description"]
    assert card["btntxt"] == "详情"
    url = urlsplit(card["url"])
    assert url.path == f"/w/{ticket.number}"
    page = await client.get(f"{url.path}?{url.query}")
    assert page.status == 200 and f"工单 {ticket.number}" in await page.text()
    [pushed] = await fetch(db_url, select(Message).where(Message.action == "task_pushed"))
    assert pushed.card is not None and pushed.card["url"] == card["url"]
    assert "手机办理" in (pushed.text or "")  # the record keeps the full text card
    await outbox_idle(db_url)


def test_long_cards_are_cut_to_wecoms_limits():
    long = TaskCard(
        title="【紧急】【新任务】工单 1001【燃气安全】" + "很长的标题" * 20,
        description="\n".join(f"第{i}行：" + "楼道里一股煤气味<b>" * 8 for i in range(6)),
        url="https://linli.example/w/1001?w=1&s=abc",
        button="立即接单处理",
    )
    sent = textcard(long)
    assert textcard_problem(sent) is None
    assert len(sent["title"].encode()) <= 128 and sent["title"].startswith("【紧急】")
    assert sent["description"].startswith('<div class="normal">第0行')
    assert sent["description"].endswith("</div>") and "<b>" not in sent["description"]
    assert sent["btntxt"] == "立即接单"


def test_the_fake_refuses_cards_that_break_the_documented_limits():
    good = {"title": "工单 1001", "description": "地点：东关中巷", "url": "https://x/w/1001"}
    assert textcard_problem(good) is None
    assert textcard_problem({**good, "title": "长" * 43}) is not None  # 129 bytes
    assert textcard_problem({**good, "description": "长" * 171}) is not None  # 513 bytes
    assert textcard_problem({**good, "url": ""}) is not None
    assert textcard_problem({**good, "btntxt": "五个字按钮"}) is not None
