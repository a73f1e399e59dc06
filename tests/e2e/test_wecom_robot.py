"""WeCom sending parts on their own: group robot pushes (paced, never dropped) and slow APIs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.config import load_settings
from bot.connectors.base import InboundEvent, SendError
from bot.connectors.wecom.connector import WeComConnector
from bot.connectors.wecom.robot import GroupRobot
from bot.messaging.ingest import accept
from bot.runtime import RUNTIME
from storage.base import utcnow
from storage.messages import SENT
from storage.outbox import Delivery
from tests import fake_wecom as wecom
from tests.conftest_platforms import outbox_idle, queue_replies, settled
from tests.support import write_config


@pytest.fixture
async def redis_client(redis_url):
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def until_sent(push: Callable[[], Awaitable[None]], waits: list[float]) -> None:
    """What the outbox does with retry_after: wait, then try again."""
    while True:
        try:
            await push()
            return
        except SendError as exc:
            assert exc.retry_after is not None and not exc.permanent
            waits.append(exc.retry_after)
            await asyncio.sleep(exc.retry_after)


async def test_robot_pushes_are_paced_and_queued_not_dropped(fake_wecom_api, redis_client):
    fake, url = fake_wecom_api
    async with aiohttp.ClientSession() as http:
        robot = GroupRobot(http, redis_client, wecom.ROBOT_KEY, api_base=url, windows=[(5, 1.0)])
        waits: list[float] = []
        started = time.monotonic()
        await asyncio.gather(
            *(
                until_sent(partial(robot.send_text, f"任务{i}", ["zhangsan", "@all"]), waits)
                for i in range(12)
            )
        )
        await until_sent(partial(robot.send_markdown, "**网格通知** <@zhangsan>"), waits)
    assert time.monotonic() - started >= 2.0  # 12 pushes at 5 a second need two more windows
    assert waits and len(fake.sends) == 13
    assert sorted(fake.texts()[:12]) == sorted(f"任务{i}" for i in range(12))
    assert fake.sends[0].body["text"]["mentioned_list"] == ["zhangsan", "@all"]
    assert fake.sends[-1].body == {"msgtype": "markdown",
                                   "markdown": {"content": "**网格通知** <@zhangsan>"}}  # fmt: skip
    assert fake.token_calls == 0


async def test_robot_errors(fake_wecom_api, redis_client):
    fake, url = fake_wecom_api
    async with aiohttp.ClientSession() as http:
        bad = GroupRobot(http, redis_client, "wrong-key", api_base=url)
        with pytest.raises(SendError) as err:
            await bad.send_text("x")
        assert err.value.permanent and "wrong-key" not in str(err.value)
        robot = GroupRobot(http, redis_client, wecom.ROBOT_KEY, api_base=url, rate_limited_retry=7)
        fake.errcode_next = [45009]
        with pytest.raises(SendError) as err:
            await robot.send_text("x")
        assert err.value.retry_after == 7


@pytest.fixture
async def connector(tmp_path, fake_wecom_api, redis_client):
    fake, url = fake_wecom_api
    env = {"LINLI_CONFIG": str(write_config(tmp_path)), **wecom.env(url)}
    conn = WeComConnector(load_settings(env), timeout=0.5)
    await conn.start(redis_client)
    yield fake, conn
    await conn.close()


DELIVERY = Delivery(message_id=1, delivery_id="out-1", platform="wecom", chat_id="m1",
                    user_id="m1", text="您好", reply_to=None, attempts=1)  # fmt: skip


async def test_slow_answers_within_the_timeout_are_fine_beyond_it_retried(connector):
    fake, conn = connector
    fake.delay = 0.2
    await conn.send(DELIVERY)
    fake.delay = 1.0
    with pytest.raises(SendError) as err:
        await conn.send(DELIVERY)
    assert not err.value.permanent and err.value.retry_after is None
    fake.delay = 0
    fake.http_fail_next = 1
    with pytest.raises(SendError, match="HTTP 503"):
        await conn.send(DELIVERY)


async def test_permanent_errors_and_long_texts(connector):
    fake, conn = connector
    fake.errcode_next = [81013]
    with pytest.raises(SendError) as err:
        await conn.send(DELIVERY)
    assert err.value.permanent
    await conn.send(replace(DELIVERY, text="路" * 1000))  # 3,000 bytes: two messages
    assert [len(t.encode()) for t in fake.to("m1")] == [1998, 1002]


async def test_concurrent_refreshers_fetch_one_token(connector, redis_client):
    fake, conn = connector
    tokens = await asyncio.gather(*(conn.tokens.refresh(stale=None) for _ in range(10)))
    assert len(set(tokens)) == 1 and fake.token_calls == 1
    ttl = await redis_client.ttl(conn.tokens.key)
    assert 6800 <= ttl <= 6900  # refreshed five minutes before the platform's expiry
    again = await conn.tokens.refresh(stale=tokens[0])
    assert again != tokens[0] and fake.token_calls == 2


async def test_group_replies_go_through_the_groups_robot_mentioning_the_member(
    platform_client, fake_wecom_api, db_url
):
    fake, _ = fake_wecom_api
    client = await platform_client()
    await queue_replies(client, "wecom", "zhangsan", ["@张三 收到"], chat_id=wecom.ROBOT_CHAT)
    [sent] = await fake.wait_for(1)
    assert sent.path.endswith("/webhook/send") and fake.token_calls == 0
    assert sent.body["text"] == {"content": "@张三 收到", "mentioned_list": ["zhangsan"]}
    [out] = await settled(db_url, "wecom")
    assert out.status == SENT


async def group_message(client, user: str, text: str) -> None:
    """A member's message in the robot's group, not mentioning the bot, as ingest gets it."""
    event = InboundEvent(platform="wecom", message_id=uuid.uuid4().hex, user_id=user,
                         chat_id=wecom.ROBOT_CHAT, text=text, timestamp=utcnow(),
                         user_name="张三", is_group=True)  # fmt: skip
    assert await accept(client.app[RUNTIME], event)


@pytest.mark.rasa
async def test_a_report_in_a_wecom_group_is_answered_there_details_in_private(
    platform_client, fake_wecom_api, rasa_url, db_url
):
    fake, _ = fake_wecom_api
    client = await platform_client(rasa_url)
    await group_message(client, "zhangsan", "大家好")  # chatter: no answer
    await group_message(client, "zhangsan", "东关中巷的路灯坏了")
    [confirm] = await fake.wait_for(1, within=60)
    assert confirm.path.endswith("/webhook/send") and "东关中巷" in confirm.body["text"]["content"]
    assert confirm.body["text"]["mentioned_list"] == ["zhangsan"]
    await group_message(client, "zhangsan", "1")
    sends = await fake.wait_for(3, within=60)
    direct = [s for s in sends if s.path.endswith("/message/send")]
    robot = [s for s in sends if s.path.endswith("/webhook/send")]
    assert len(direct) == 1 and "工单号" in direct[0].body["text"]["content"]
    assert direct[0].body["touser"] == "zhangsan"
    assert len(robot) == 2 and "私信" in robot[1].body["text"]["content"]
    await outbox_idle(db_url)
