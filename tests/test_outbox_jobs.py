"""Outbox delivery on saq: one job per reply, retries deferred by saq, a sweep for lost jobs.

The SQL outbox stays the record; these tests check the scheduling: that saq (not the sweep)
re-runs a failed send, that enqueueing a reply twice makes one job, and that replies whose
jobs Redis lost are swept back and sent once, in order.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from saq.job import Status

from bot.delivery import QUEUE_NAME, enqueue_delivery, outbox_queue
from storage.messages import SENT
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
