"""Fixtures for the WeCom and WeChat connectors: fake platform APIs and an app wired to them.

Load with `pytest_plugins = ["tests.conftest_platforms"]` (tests/conftest.py does).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.config import load_settings
from bot.runtime import RUNTIME
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.messages import SENDING, Message, record_outbound
from storage.residents import get_or_create_conversation
from tests import fake_wechat, fake_wecom
from tests.db_helpers import outbox_idle as outbox_idle  # tests import it from here
from tests.fake_wechat import FakeWeChat
from tests.fake_wecom import FakeWeCom
from tests.support import write_config

DEAD_NLU = "http://127.0.0.1:9"  # nothing listens: inbound messages are stored and wait


@pytest.fixture
async def fake_wecom_api() -> AsyncIterator[tuple[FakeWeCom, str]]:
    """A fake WeCom API on a local port; yields it and its base URL."""
    fake = FakeWeCom()
    url = await fake.start()
    yield fake, url
    await fake.close()


@pytest.fixture
async def fake_wechat_api() -> AsyncIterator[tuple[FakeWeChat, str]]:
    """A fake WeChat API on a local port; yields it and its base URL."""
    fake = FakeWeChat()
    url = await fake.start()
    yield fake, url
    await fake.close()


PlatformApp = Callable[..., Awaitable[TestClient]]


class ServerAsDeployed(TestServer):
    """A test server that, like `linli serve`, lets a handler finish when its client hangs up
    (aiohttp's TestServer cancels it instead)."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        kwargs["handler_cancellation"] = False
        return await super()._make_runner(**kwargs)


@pytest.fixture
async def platform_client(
    tmp_path: Path,
    db_url: str,
    redis_url: str,
    fake_wecom_api: tuple[FakeWeCom, str],
    fake_wechat_api: tuple[FakeWeChat, str],
) -> AsyncIterator[PlatformApp]:
    """Start the real app (web + worker) with both platform connectors on the fakes."""
    clients: list[TestClient] = []

    async def make(
        nlu_url: str = DEAD_NLU,
        *,
        wechat_safe: bool = True,
        overrides: dict[str, Any] | None = None,
        as_deployed: bool = False,
        extra_env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestClient:
        # callbacks that get no answer wait this long before `success` (tests pass their own)
        overrides = {"wechat": {"passive_reply_seconds": 0.3}, **(overrides or {})}
        if not wechat_safe:  # plain mode runs only when config.yml allows it
            overrides["wechat"] = {**overrides["wechat"], "allow_plain_mode": True}
        env = {
            "LINLI_CONFIG": str(write_config(tmp_path, overrides)),
            "LINLI_DATABASE_URL": db_url,
            "LINLI_REDIS_URL": redis_url,
            "LINLI_NLU_URL": nlu_url,
            "LINLI_VAR_DIR": str(tmp_path / "var"),
            **fake_wecom.env(fake_wecom_api[1]),
            **fake_wechat.env(fake_wechat_api[1], safe=wechat_safe),
            **(extra_env or {}),
        }
        server = (ServerAsDeployed if as_deployed else TestServer)(
            create_app(load_settings(env), **kwargs)
        )
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def queue_replies(
    client: TestClient,
    platform: str,
    user: str,
    texts: list[str],
    chat_id: str | None = None,
    *,
    last_message_at: datetime | None = None,
    reply_to_id: int | None = None,
) -> None:
    """Put replies to a user in the outbox as a handler would, and wake the deliverer.

    The user counts as having written last_message_at (default: just now), as after a message.
    """
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conversation = await get_or_create_conversation(
            session, platform, chat_id or user, user, is_group=chat_id not in (None, user)
        )
        conversation.last_message_at = last_message_at or utcnow()
        for text in texts:
            record_outbound(
                session, conversation_id=conversation.id, platform=platform, text=text,
                reply_to_id=reply_to_id,
            )  # fmt: skip
    runtime.wake_outbox()


async def messages(db_url: str, platform: str, direction: str = "in") -> list[Message]:
    """Stored messages of a platform, oldest first."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            stmt = (
                select(Message)
                .where(Message.platform == platform, Message.direction == direction)
                .order_by(Message.id)
            )
            return list((await session.scalars(stmt)).all())
    finally:
        await engine.dispose()


async def settled(db_url: str, platform: str, within: float = 10.0) -> list[Message]:
    """Outbound messages once none is mid-send (the fake sees a send before it is marked)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        outs = await messages(db_url, platform, "out")
        if all(m.status != SENDING for m in outs):
            return outs
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{platform}: replies still being sent after {within} s")
        await asyncio.sleep(0.05)
