"""Nothing lost, nothing twice: Redis down at receive time, Rasa down, sends failing, a killed worker."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from storage.embedded_redis import EmbeddedRedis
from storage.messages import Message
from storage.residents import Conversation
from tests.db_helpers import count, fetch, tickets
from tests.support import SECRET, NLUProxy, say, write_config

pytestmark = pytest.mark.rasa
NUMBER = re.compile(r"工单号 (\d{4,6})")


async def start_proxy(rasa_url: str) -> tuple[NLUProxy, TestServer]:
    proxy = NLUProxy(rasa_url)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    server = TestServer(app)
    await server.start_server()
    return proxy, server


async def test_message_stored_while_redis_is_down_is_answered_later(
    make_client, rasa_url, receiver, tmp_path, db_url
):
    rec, _ = receiver
    own = EmbeddedRedis(tmp_path / "own-redis", appendonly=False)
    await asyncio.to_thread(own.start)
    try:
        client = await make_client(rasa_url, redis=own.url)
        await asyncio.to_thread(own.stop)
        await say(client, "rd1", "东关中巷的路灯坏了")  # stored, 200, not queued
        assert await count(db_url, Message.direction == "in") == 1
        await asyncio.to_thread(own.start)
        replies = await rec.wait_for("rd1", 1, within=30)
        assert "东关中巷" in replies[0]
    finally:
        await asyncio.to_thread(own.stop)


async def test_messages_wait_while_rasa_is_down_and_are_never_guessed(
    make_client, rasa_url, receiver
):
    rec, _ = receiver
    proxy, server = await start_proxy(rasa_url)
    try:
        proxy.down = True
        client = await make_client(str(server.make_url("")).rstrip("/"))
        await say(client, "nd1", "东关中巷的路灯坏了")
        await say(client, "nd1", "1")
        await asyncio.sleep(2)
        assert rec.for_user("nd1") == []
        proxy.down = False
        replies = await rec.wait_for("nd1", 2, within=30)
        assert "对吗" in replies[0]
        assert NUMBER.search(replies[1])
    finally:
        await server.close()


async def test_failed_sends_are_retried_and_delivered_once(make_client, rasa_url, receiver):
    rec, _ = receiver
    rec.fail_next = 3
    client = await make_client(rasa_url)
    await say(client, "sf1", "东关中巷的路灯坏了")
    await say(client, "sf1", "1")
    replies = await rec.wait_for("sf1", 2, within=30)
    await asyncio.sleep(1)
    assert rec.failures == 3
    assert len(rec.for_user("sf1")) == 2 and NUMBER.search(replies[1])
    assert len({p["message_id"] for p in rec.posts}) == len(rec.posts)


def spawn_worker(
    tmp_path: Path, db_url: str, redis_url: str, nlu_url: str, out: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LINLI_CONFIG": str(write_config(tmp_path / "worker")),
        "LINLI_DATABASE_URL": db_url,
        "LINLI_REDIS_URL": redis_url,
        "LINLI_NLU_URL": nlu_url,
        "LINLI_GENERIC_SECRET": SECRET,
        "LINLI_GENERIC_OUTBOUND_URL": out,
        "LINLI_VAR_DIR": str(tmp_path / "worker-var"),
    }
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--role", "worker"],
        env=env,
        stdout=output,
        stderr=output,
    )


async def logged(log: Path, words: str, within: float = 30.0) -> None:
    """Wait until a process's log holds these words."""
    deadline = asyncio.get_running_loop().time() + within
    while words not in await asyncio.to_thread(log.read_text, "utf-8", "replace"):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{log.name} never said {words!r}")
        await asyncio.sleep(0.05)


async def test_worker_killed_mid_message_is_redone_once(
    make_client, rasa_url, receiver, tmp_path, db_url, redis_url
):
    rec, out_url = receiver
    (tmp_path / "worker").mkdir()
    proxy, server = await start_proxy(rasa_url)
    nlu_url = str(server.make_url("")).rstrip("/")
    worker = spawn_worker(tmp_path, db_url, redis_url, nlu_url, out_url)
    try:
        web_only = await make_client(nlu_url, worker_role=False)
        proxy.delay = 3.0
        await say(web_only, "kw1", "东关中巷的路灯坏了")
        await asyncio.wait_for(proxy.started.wait(), timeout=60)  # the worker is mid-message
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        proxy.delay = 0.0
        await make_client(nlu_url)  # a new worker takes the entry over
        replies = await rec.wait_for("kw1", 1, within=30)
        assert "东关中巷" in replies[0]
        await say(web_only, "kw1", "1")
        replies = await rec.wait_for("kw1", 2, within=30)
        await asyncio.sleep(1)
        assert len(rec.for_user("kw1")) == 2 and NUMBER.search(replies[1])
        assert len(await tickets(db_url)) == 1
    finally:
        if worker.poll() is None:
            worker.kill()
        await server.close()


async def test_worker_stopped_mid_message_finishes_it_first(
    make_client, rasa_url, receiver, tmp_path, db_url, redis_url
):
    rec, out_url = receiver
    (tmp_path / "worker").mkdir()
    proxy, server = await start_proxy(rasa_url)
    nlu_url = str(server.make_url("")).rstrip("/")
    log = tmp_path / "worker.log"
    worker = spawn_worker(tmp_path, db_url, redis_url, nlu_url, out_url, log)
    try:
        web_only = await make_client(nlu_url, worker_role=False)
        proxy.delay = 2.0
        await say(web_only, "st1", "东关中巷的路灯坏了")
        await asyncio.wait_for(proxy.started.wait(), timeout=60)  # the worker is mid-message
        worker.send_signal(signal.SIGTERM)
        await logged(log, "draining")  # it has stopped taking work (not before: a busy
        # machine may deliver the signal after the next message)
        await say(web_only, "st1", "1")  # arrives while it drains: left for another worker
        assert await asyncio.to_thread(worker.wait, 30) == 0
        replies = rec.for_user("st1")  # no other worker runs: the stopping one answered
        assert len(replies) == 1 and "东关中巷" in replies[0]
        assert await count(db_url, Message.direction == "in", Message.status == "done") == 1
        proxy.delay = 0.0
        await make_client(nlu_url)  # a new worker takes the second message
        replies = await rec.wait_for("st1", 2, within=30)
        await asyncio.sleep(1)
        assert len(rec.for_user("st1")) == 2 and NUMBER.search(replies[1])
        assert len({p["message_id"] for p in rec.posts}) == len(rec.posts)
    finally:
        if worker.poll() is None:
            worker.kill()
        await server.close()


async def turns_in_order(db_url: str, user: str) -> tuple[list[int], list[int]]:
    """A user's inbound message ids, and what each of the bot's replies answers, in order."""
    conversation = select(Conversation.id).where(Conversation.user_id == user)
    inbound = select(Message.id).where(
        Message.direction == "in", Message.conversation_id.in_(conversation)
    )
    replies = select(Message.reply_to_id).where(
        Message.direction == "out", Message.conversation_id.in_(conversation)
    )
    return (
        list(await fetch(db_url, inbound.order_by(Message.id))),
        list(await fetch(db_url, replies.order_by(Message.id))),
    )


async def test_one_residents_burst_does_not_hold_up_another_resident(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    proxy, server = await start_proxy(rasa_url)
    try:
        proxy.delay = 0.05  # every parse a little slow, like a loaded Rasa
        nlu_url = str(server.make_url("")).rstrip("/")
        overrides = {
            "dialogue": {"parse_cache_seconds": 0},
            "worker": {"lock_timeout_seconds": 30},  # as in config.yml
        }
        consumers = [await make_client(nlu_url, overrides=overrides) for _ in range(2)]
        burst = 50
        # one resident floods both consumers' slots (8 each), then another resident writes
        await asyncio.gather(*(say(consumers[n % 2], "burst", "你好啊") for n in range(burst)))
        await say(consumers[0], "other", "东关中巷的路灯坏了")
        other = (await rec.wait_for("other", 1, within=30))[0]
        assert "东关中巷" in other
        await rec.wait_for("burst", burst, within=90)
        order = [(p["user_id"], p["text"]) for p in rec.posts]
        answered = order.index(("other", other))
        last_of_burst = max(i for i, (user, _) in enumerate(order) if user == "burst")
        assert answered < last_of_burst, "the other resident waited for the whole burst"
        await asyncio.sleep(1)
        inbound, answers = await turns_in_order(db_url, "burst")
        assert len(inbound) == burst and answers == sorted(answers)  # strictly in order
        assert set(answers) == set(inbound) and len(rec.for_user("burst")) == len(answers)
        assert await count(db_url, Message.direction == "in", Message.status == "done") == 51
    finally:
        await server.close()


async def test_a_long_backlog_keeps_its_lock(make_client, rasa_url, receiver, db_url, caplog):
    rec, _ = receiver
    proxy, server = await start_proxy(rasa_url)
    try:
        proxy.delay = 0.15  # 20 parses: 3 s of backlog, three times the lock's life
        nlu_url = str(server.make_url("")).rstrip("/")
        overrides = {"dialogue": {"parse_cache_seconds": 0}, "worker": {"lock_timeout_seconds": 1}}
        consumers = [await make_client(nlu_url, overrides=overrides) for _ in range(2)]
        for n in range(20):
            await say(consumers[n % 2], "backlog", "你好啊")
        await rec.wait_for("backlog", 20, within=60)
        await asyncio.sleep(1)
        inbound, answers = await turns_in_order(db_url, "backlog")
        assert answers == sorted(answers) and set(answers) == set(inbound)
        assert len(rec.for_user("backlog")) == len(answers)
        lost = [r.getMessage() for r in caplog.records if "while held" in r.getMessage()]
        assert lost == []
    finally:
        await server.close()
