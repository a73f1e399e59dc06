"""Delivery jobs on saq: the queue, the job keyed by its message id, and the enqueuer.

Every commit that writes replies wakes the enqueuer of that process (`runtime.wake_outbox`):
with the new replies' ids (the pipeline: the first new reply of each conversation; the
rest follow when it settles) it enqueues those, without one (staff actions, the scheduler)
it enqueues each due reply whose earlier replies are settled (a reply that has a job
already gets no second one: the job key is its message id; a job saq holds for later is
moved up to now, since the outbox row says when a reply is due). In worker processes it also sweeps
every `delivery.poll_seconds`: senders' expired leases are released and every due reply is
enqueued again, so a reply committed while Redis was down, or whose job Redis lost, is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from redis.asyncio import Redis
from saq import Job
from saq.queue.redis import RedisQueue

from bot.messaging.outbox.leases import kept_alive
from bot.runtime import Runtime
from bot.tasks import being_cancelled
from storage.outbox import due_deliveries, expired_leases, release_leases

log = logging.getLogger(__name__)
QUEUE_NAME = "linli-outbox"
JOB = "deliver"
# How long recording a send may wait for the database (SQLite's busy timeout, storage/db.py).
RECORDING_WAIT = 30


def outbox_queue(redis: Redis) -> RedisQueue:
    """The saq queue of delivery jobs on the service's Redis."""
    return RedisQueue(redis, name=QUEUE_NAME)


async def enqueue_delivery(queue: RedisQueue, message_id: int, *, lease: float = 60) -> bool:
    """Add a reply's delivery job, keyed by its id; False when it already has one.

    saq cancels a run after the send lease plus RECORDING_WAIT: a run cut while recording a
    send that went out would be sent again.
    """
    job = Job(
        JOB,
        kwargs={"message_id": message_id},
        key=f"out-{message_id}",
        timeout=max(1, int(lease)) + RECORDING_WAIT,
        retries=1,  # more runs only when the job asks to wait; attempts that count are in SQL
        ttl=300,
    )
    return await queue.enqueue(job) is not None


async def bring_forward(queue: RedisQueue, message_id: int) -> bool:
    """Run a reply's job now if saq holds it for later (the reply became due early: a passive
    answer gave it back, an earlier reply settled); True when it was moved up.

    saq has no call for this; its scheduled jobs are a sorted set scored by run time, so
    this lowers the score to now (XX: only an existing entry; LT: never delays a job that
    is queued or running, which score 0) and saq's scheduler queues it within a second.
    """
    moved = await queue.redis.zadd(
        queue.namespace("incomplete"),
        {queue.job_id(f"out-{message_id}"): time.time()},
        xx=True,
        lt=True,
        ch=True,
    )
    return bool(moved)


class OutboxEnqueuer:
    """Turns committed replies into delivery jobs; with sweep, also finds jobless ones."""

    def __init__(self, runtime: Runtime, queue: RedisQueue, *, sweep: bool) -> None:
        self.runtime = runtime
        self.cfg = runtime.settings.file.delivery
        self.queue = queue
        self.sweeps = sweep

    async def run(self) -> None:
        """Enqueue on every wake (and sweep every poll_seconds) until cancelled."""
        wake = self.runtime.outbox_wake
        last_sweep: float | None = None
        woken = False
        while True:
            wake.clear()
            ids, scan = self.runtime.take_outbox_work()
            try:
                due = last_sweep is None or time.monotonic() - last_sweep >= self.cfg.poll_seconds
                if self.sweeps and due:
                    last_sweep = time.monotonic()
                    await self.sweep()
                elif scan or not woken:  # told to look, or the poll interval passed
                    await self.enqueue_due()
                else:  # the replies just committed, without looking through the outbox
                    for message_id in ids:
                        await self.enqueue(message_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if being_cancelled():
                    raise asyncio.CancelledError from exc
                log.warning("outbox enqueue failed (the sweep will retry): %s", exc)
            woken = False
            with contextlib.suppress(TimeoutError):
                woken = await asyncio.wait_for(wake.wait(), timeout=self.cfg.poll_seconds)

    async def sweep(self) -> int:
        """Release leases of crashed senders, then enqueue every due reply; return new jobs.

        An expired lease whose sender is alive (it keeps the lease in Redis: leases.py) stays.
        """
        async with self.runtime.sessions() as session:
            expired = await expired_leases(session)
        released = 0
        if expired:
            alive = await kept_alive(self.queue.redis, expired)
            dead = [message_id for message_id in expired if message_id not in alive]
            if dead:
                async with self.runtime.sessions() as session, session.begin():
                    released = await release_leases(session, dead)
        if released:
            log.warning("released %d replies whose sender stopped mid-send", released)
        return await self.enqueue_due(limit=500)

    async def enqueue_due(self, limit: int = 100) -> int:
        """Enqueue the replies due now whose earlier replies are settled; return new jobs."""
        async with self.runtime.sessions() as session:
            ids = await due_deliveries(session, limit)
        added = 0
        for message_id in ids:
            added += await self.enqueue(message_id)
        return added

    async def enqueue(self, message_id: int) -> bool:
        """Have a due reply's job run now: add it (True), or move up the one it has (False)."""
        if await enqueue_delivery(self.queue, message_id, lease=self.cfg.lease_seconds):
            return True
        await bring_forward(self.queue, message_id)  # never wait past the reply's own time
        return False
