"""Outbox delivery on saq: one job per reply, retries deferred by saq, a sweep for lost jobs.

The SQL outbox stays the record; these tests check the scheduling: that saq (not the sweep)
re-runs a failed send, that enqueueing a reply twice makes one job, and that replies whose
jobs Redis lost are swept back and sent once, in order.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import redis.asyncio as aioredis
from saq.job import Status
from sqlalchemy import update

from bot.messaging.outbox.enqueue import QUEUE_NAME, enqueue_delivery, outbox_queue
from bot.messaging.outbox.leases import PREFIX, LeaseKeeper, kept_alive
from bot.runtime import RUNTIME
from storage.base import utcnow
from storage.messages import SENDING, SENT, Message, first_outbound_ids, record_outbound
from storage.residents import get_or_create_conversation
from tests.conftest_platforms import messages, queue_replies, settled

NO_SWEEP = {"delivery": {"poll_seconds": 300}}  # only the start-up sweep runs in a test


async def test_a_failed_send_is_run_again_by_its_deferred_job(
    platform_client, fake_wecom_api, db_url, redis_url
):
    fake, _ = fake_wecom_api
    fake.http_fail_next = 2
    client = await platform_client(overrides=NO_SWEEP)
    await queue_replies(client, "wecom", "wu", ["第三次才送到"])
    await fake.wait_for(1, within=30)
    [out] = await settled(db_url, "wecom")
    assert (out.status, out.attempts) == (SENT, 3) and fake.http_failures == 2
    redis = aioredis.Redis.from_url(redis_url)
    try:
        job = await outbox_queue(redis).job(f"out-{out.id}")
        assert job is not None and job.status == Status.COMPLETE
        assert job.attempts == 3 and job.result == "sent"  # one job, run three times by saq
    finally:
        await redis.aclose()


async def test_a_reply_enqueued_twice_is_one_job_and_one_send(
    platform_client, fake_wecom_api, db_url, redis_url
):
    fake, _ = fake_wecom_api
    web_only = await platform_client(overrides=NO_SWEEP, worker_role=False)
    await queue_replies(web_only, "wecom", "zheng", ["只发一次"])
    [out] = await messages(db_url, "wecom", "out")
    redis = aioredis.Redis.from_url(redis_url)
    try:
        queue = outbox_queue(redis)
        for _ in range(600):  # the web process enqueued the reply it committed
            if await queue.count("queued"):
                break
            await asyncio.sleep(0.05)
        assert await enqueue_delivery(queue, out.id) is False  # it has its job already
        assert await enqueue_delivery(queue, out.id) is False
        assert await queue.count("queued") == 1
        await redis.delete(f"saq:job:{QUEUE_NAME}:out-{out.id}")  # the job lost: a new one
        await redis.delete(f"saq:{QUEUE_NAME}:queued", f"saq:{QUEUE_NAME}:incomplete")
        assert await enqueue_delivery(queue, out.id) is True
        assert await enqueue_delivery(queue, out.id) is False
        assert await queue.count("queued") == 1
        await platform_client(overrides=NO_SWEEP)  # a worker takes the job
        await fake.wait_for(1, within=30)
        [out] = await settled(db_url, "wecom")
        await asyncio.sleep(1.5)  # a second job, had there been one, would have run by now
        assert fake.to("zheng") == ["只发一次"] and (out.status, out.attempts) == (SENT, 1)
        assert await redis.zcard(f"saq:{QUEUE_NAME}:incomplete") == 0
    finally:
        await redis.aclose()


async def test_replies_whose_jobs_redis_lost_are_swept_back(
    platform_client, fake_wecom_api, db_url, redis_url
):
    fake, _ = fake_wecom_api
    client = await platform_client(overrides={"delivery": {"poll_seconds": 1}})
    fake.down = True
    texts = ["第一条", "第二条", "第三条"]
    await queue_replies(client, "wecom", "feng", texts)
    for _ in range(600):  # until the first reply's job has failed twice and waits in saq
        if fake.http_failures >= 2:
            break
        await asyncio.sleep(0.05)
    assert fake.http_failures >= 2
    redis = aioredis.Redis.from_url(redis_url)
    try:
        await redis.flushall()  # Redis lost its data: every delivery job is gone
    finally:
        await redis.aclose()
    fake.down = False
    await fake.wait_for(3, within=30)
    outs = await settled(db_url, "wecom")
    assert fake.to("feng") == texts  # once each, in order
    assert [m.status for m in outs] == [SENT] * 3


async def test_a_reply_committed_in_a_web_process_is_enqueued_at_once(
    platform_client, fake_wecom_api, db_url
):
    fake, _ = fake_wecom_api
    await platform_client(overrides=NO_SWEEP, web_role=False)  # its start-up sweep finds none
    web_only = await platform_client(overrides=NO_SWEEP, worker_role=False)
    await queue_replies(web_only, "wecom", "chu", ["网页进程写的回复"])  # e.g. a staff reply
    await fake.wait_for(1, within=30)  # well before the worker's next sweep (300 s)
    [out] = await settled(db_url, "wecom")
    assert fake.to("chu") == ["网页进程写的回复"] and (out.status, out.attempts) == (SENT, 1)


async def test_a_job_held_for_later_is_moved_up_when_its_reply_becomes_due(
    platform_client, fake_wecom_api, db_url
):
    fake, _ = fake_wecom_api
    fake.errcode_next = [45009]  # rate limited: the job waits 20 s in saq
    waits = {"delivery": {"poll_seconds": 300}, "pacing": {"rate_limited_retry_seconds": 20}}
    client = await platform_client(overrides=waits)
    await queue_replies(client, "wecom", "qian", ["提前送出"])
    for _ in range(600):
        if fake.refused:
            break
        await asyncio.sleep(0.05)
    [out] = await messages(db_url, "wecom", "out")
    assert fake.refused and out.next_attempt_at is not None
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():  # given back, as a passive
        await session.execute(  # answer that could not be written does
            update(Message).where(Message.id == out.id).values(next_attempt_at=utcnow())
        )
    runtime.wake_outbox()
    await fake.wait_for(1, within=10)  # not 20 s later
    [out] = await settled(db_url, "wecom")
    assert fake.to("qian") == ["提前送出"] and out.status == SENT


async def test_the_replies_of_a_turn_are_enqueued_by_id_without_a_scan(
    platform_client, fake_wecom_api
):
    fake, _ = fake_wecom_api
    client = await platform_client(overrides=NO_SWEEP)
    runtime = client.app[RUNTIME]

    async def commit(user: str, texts: list[str]) -> list[int]:
        async with runtime.sessions() as session, session.begin():
            conversation = await get_or_create_conversation(session, "wecom", user, user)
            conversation.last_message_at = utcnow()
            for text in texts:
                record_outbound(session, conversation_id=conversation.id, platform="wecom",
                                text=text, reply_to_id=None)  # fmt: skip
            await session.flush()
            return first_outbound_ids(session)

    runtime.wake_outbox(await commit("warm", ["预热"]))
    await fake.wait_for(1, within=30)  # the start-up sweep has run by now
    unnamed = await commit("quiet", ["没人通知的回复"])  # as if its wake had been lost
    named = await commit("named", ["第一条", "第二条"])
    assert len(unnamed) == 1 and len(named) == 1  # the first of each conversation only
    runtime.wake_outbox(named)
    await fake.wait_for(3, within=30)
    assert fake.to("named") == ["第一条", "第二条"]  # the second follows the first
    await asyncio.sleep(1.0)
    assert fake.to("quiet") == []  # nothing looked through the outbox
    runtime.wake_outbox()  # a wake without ids does
    await fake.wait_for(4, within=30)
    assert fake.to("quiet") == ["没人通知的回复"]


async def test_an_expired_lease_is_released_only_once_no_live_sender_keeps_it(
    platform_client, fake_wecom_api, redis_url
):
    """A slow sender (SQLite recording waits for the lock) keeps its reply; a dead one not."""
    fake, _ = fake_wecom_api
    client = await platform_client(overrides={"delivery": {"poll_seconds": 0.2}})
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conversation = await get_or_create_conversation(session, "wecom", "slow", "slow")
        conversation.last_message_at = utcnow()
        record_outbound(session, conversation_id=conversation.id, platform="wecom",
                        text="慢的发送者", reply_to_id=None)  # fmt: skip
        await session.flush()
        [reply_id] = first_outbound_ids(session)
        await session.execute(  # claimed by another process, its lease run out a while ago
            update(Message)
            .where(Message.id == reply_id)
            .values(status=SENDING, next_attempt_at=utcnow() - timedelta(seconds=30))
        )
    redis = aioredis.Redis.from_url(redis_url)
    try:
        await LeaseKeeper(redis, 5).renew([reply_id])  # that sender is alive and keeps it
        runtime.wake_outbox()
        await asyncio.sleep(2.0)  # ten sweeps
        assert fake.to("slow") == []
        assert await kept_alive(redis, [reply_id, reply_id + 1]) == {reply_id}
        await redis.delete(f"{PREFIX}{reply_id}")  # it died: nothing renews its key
        await fake.wait_for(1, within=30)
        assert fake.to("slow") == ["慢的发送者"]
    finally:
        await redis.aclose()
