"""Dead letters: sends the outbox gave up on are listed with their error and can be retried."""

from __future__ import annotations

import asyncio

from bot.cli import main
from storage.db import create_engine, session_factory
from storage.dead_letters import failed_deliveries, retry_failed
from storage.messages import FAILED, PENDING, SENT
from tests import fake_wecom as wecom
from tests.conftest_platforms import messages, queue_replies, settled
from tests.support import write_config


async def until_failed(db_url: str, count: int) -> None:
    for _ in range(300):
        outs = await messages(db_url, "wecom", "out")
        if sum(m.status == FAILED for m in outs) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} dead letters")


async def cli(monkeypatch, tmp_path, db_url, *argv: str) -> int:
    """Run `linli <argv>` as an operator would (in a thread: it runs its own event loop)."""
    monkeypatch.setenv("LINLI_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setenv("LINLI_DATABASE_URL", db_url)
    return await asyncio.to_thread(main, list(argv))


async def test_staff_see_dead_letters_and_retry_one(
    platform_client, fake_wecom_api, db_url, tmp_path, monkeypatch, capsys
):
    fake, _ = fake_wecom_api
    client = await platform_client(overrides={"delivery": {"max_attempts": 2}})
    fake.http_fail_next = 2  # the platform is down for both attempts
    await queue_replies(client, "wecom", "lisi", ["您的预约已确认"])
    await until_failed(db_url, 1)
    fake.errcode_next = [60111]  # member not found: permanent at once
    await queue_replies(client, "wecom", "zhangsan-member-01", ["工单 1001 已派单"])
    await until_failed(db_url, 2)
    assert fake.sends == []

    assert await cli(monkeypatch, tmp_path, db_url, "outbox", "failed") == 0
    listing = capsys.readouterr().out
    assert "60111" in listing and "HTTP 503" in listing and "2 failed message(s)" in listing
    assert "zhangsan-member-01" not in listing  # ids shortened on screen

    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        first, second = await failed_deliveries(session)
    await engine.dispose()
    assert (first.attempts, second.attempts) == (2, 1) and "60111" in (second.last_error or "")

    assert await cli(monkeypatch, tmp_path, db_url, "outbox", "retry", str(first.message_id)) == 0
    [sent] = await fake.wait_for(1)
    assert sent.body["text"]["content"] == "您的预约已确认"
    outs = {m.id: m for m in await settled(db_url, "wecom")}
    assert (outs[first.message_id].status, outs[first.message_id].attempts) == (SENT, 1)
    assert outs[second.message_id].status == FAILED  # not retried: still listed

    assert await cli(monkeypatch, tmp_path, db_url, "outbox", "retry", "--all") == 0
    await fake.wait_for(2)
    assert {m.status for m in await settled(db_url, "wecom")} == {SENT}
    assert await cli(monkeypatch, tmp_path, db_url, "outbox", "retry", "999999") == 1
    assert await cli(monkeypatch, tmp_path, db_url, "outbox", "retry") == 2


async def test_retry_resets_attempts_and_touches_only_dead_letters(platform_client, db_url):
    client = await platform_client(worker_role=False)  # nothing delivers: states stay put
    await queue_replies(client, "wecom", "u1", ["a", "b"])
    engine = create_engine(db_url)
    async with session_factory(engine)() as session, session.begin():
        assert await retry_failed(session) == 0  # nothing failed yet
    outs = await messages(db_url, "wecom", "out")
    async with session_factory(engine)() as session, session.begin():
        from sqlalchemy import update

        from storage.messages import Message

        await session.execute(
            update(Message)
            .where(Message.id == outs[0].id)
            .values(status=FAILED, attempts=10, last_error="HTTP 503")
        )
        assert await retry_failed(session, [outs[0].id, outs[1].id]) == 1
    await engine.dispose()
    a, b = await messages(db_url, "wecom", "out")
    assert (a.status, a.attempts, b.status) == (PENDING, 0, PENDING)
    assert wecom.CORP_ID  # the fake is configured even though nothing was sent
