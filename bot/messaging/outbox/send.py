"""Outbox delivery on saq (a Redis job queue): the job that sends one reply, and its runner.

The SQL outbox stays the record: a reply is stored before anything is sent, and its state
(attempts, next try, last error, FAILED = dead letter for staff) lives there. The scheduling
is saq's: each reply gets a delivery job keyed by its message id (outbox/enqueue.py), run by
the delivery worker (saq's job worker) of every worker process. A failed attempt is run again
by saq after the backoff step with jitter (or the platform's "not now" wait); the last failure
dead-letters.
Replies of one conversation go in order: a job whose earlier reply is unsettled waits until
that one's next try, and a reply that settles enqueues the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from saq import Job, Worker

from bot.connectors.base import SendError
from bot.messaging.outbox.enqueue import JOB, OutboxEnqueuer, outbox_queue
from bot.messaging.outbox.leases import LeaseKeeper
from bot.runtime import Runtime
from storage.base import utcnow
from storage.db import unavailable
from storage.messages import PENDING, SENDING
from storage.outbox import (
    Delivery,
    claim_delivery,
    mark_failed_attempt,
    mark_sent,
    next_in_line,
    waiting_behind,
)

log = logging.getLogger(__name__)
JITTER = 0.2  # a retry waits its backoff step ±20%
AFTER_EARLIER = 0.5  # a reply waiting behind an earlier one runs this long after its next try


class Later(Exception):
    """Not now: saq runs the job again after delay seconds (attempts are counted in SQL)."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = max(0.0, delay)


# saq warns on every stop that its idle upkeep loops had to be cancelled: nothing is lost
STOPPING = "Some tasks did not finish within the shutdown grace period"


class _QuietSaq(logging.Filter):
    """Keep saq's own log to warnings about real faults: planned retries and Redis outages
    are logged by this module instead of as saq tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for saq's routine lines and for tracebacks of a Later or a lost Redis."""
        if record.levelno < logging.WARNING or str(record.msg).startswith(STOPPING):
            return False
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, Later | RedisError | OSError)


def quiet_saq_log() -> None:
    """Put the filter on saq's logger, once per process (the app factory calls this)."""
    saq_log = logging.getLogger("saq")
    if not any(isinstance(f, _QuietSaq) for f in saq_log.filters):
        saq_log.addFilter(_QuietSaq())


class _DeliveryWorker(Worker):
    """The delivery worker: saq's job worker without its own signal handlers (the service owns
    SIGINT and SIGTERM)."""

    SIGNALS: list[Any] = []  # noqa: RUF012


class Deliverer:
    """Enqueues due replies as saq jobs and runs them; several processes may run one each."""

    def __init__(self, runtime: Runtime, parallel: int = 8) -> None:
        self.runtime = runtime
        self.cfg = runtime.settings.file.delivery
        self.queue = outbox_queue(runtime.redis)
        self.enqueuer = OutboxEnqueuer(runtime, self.queue, sweep=True)
        self.leases = LeaseKeeper(runtime.redis, self.cfg.lease_seconds)
        self.stopping = False  # set by quiesce(): take no new reply in this process
        self._busy = 0  # replies between claim and mark in this process
        self._idle = asyncio.Event()
        self._idle.set()
        self.delivery_worker = _DeliveryWorker(
            self.queue,
            functions=[(JOB, self._job)],
            concurrency=parallel,
            dequeue_timeout=1.0,  # below the Redis client's socket timeout
        )

    async def run(self) -> None:
        """Run the delivery worker and the sweeping enqueuer until cancelled."""
        loop = asyncio.get_running_loop()
        running = [
            loop.create_task(self.delivery_worker.start(), name="outbox-jobs"),
            loop.create_task(self.leases.run(), name="outbox-leases"),
        ]
        try:
            await self.enqueuer.run()
        finally:
            for task in running:
                task.cancel()
            await asyncio.wait(running, timeout=5)

    async def enqueue(self, message_id: int) -> bool:
        """Have a due reply's job run now (a new job: True)."""
        return await self.enqueuer.enqueue(message_id)

    async def _job(self, ctx: dict[str, Any], *, message_id: int) -> str:
        try:
            return await self.deliver(message_id)
        except Later as later:
            job: Job = ctx["job"]
            job.retry_delay, job.retry_backoff = later.delay, False
            job.retries = job.attempts + 1  # saq re-queues it deferred by the delay
            raise

    async def quiesce(self, seconds: float) -> None:
        """Take no new reply; return once none is being claimed, sent or marked (bounded)."""
        self.stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=seconds)

    async def deliver(self, message_id: int) -> str:
        """Try one reply now: sent, dead-lettered or settled elsewhere; raise Later to wait."""
        if self.stopping:  # another process (or this one after a restart) sends it
            raise Later(1.0, "this process is stopping")
        self._busy += 1
        self._idle.clear()
        try:
            return await self._claim_send_mark(message_id)
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def _claim_send_mark(self, message_id: int) -> str:
        async with self.runtime.sessions() as session, session.begin():
            delivery = await claim_delivery(
                session, message_id, self.cfg.lease_seconds, in_order=True
            )
            if delivery is None:
                status, behind = await waiting_behind(session, message_id)
                following = await next_in_line(session, message_id)
        if delivery is None:
            return await self._not_claimed(message_id, status, behind, following)
        with self.leases.hold(message_id):  # no sweep takes it from a live sender
            error = await self._send(delivery)
            retry_at = None if error is None else self._retry_at(delivery, error)
            following = await self._settle(delivery, error, retry_at)
        if following is not None:
            await self.enqueue(following)
        if error is None:
            return "sent"
        if retry_at is None:
            log.warning(
                "reply %s dead-lettered after attempt %d: %s", message_id, delivery.attempts, error
            )
            return "failed"
        if error.retry_after is not None:
            log.info("reply %s waits %.1f s: %s", message_id, error.retry_after, error)
        else:
            log.warning(
                "reply %s attempt %d failed: %s (will retry)", message_id, delivery.attempts, error
            )
        raise Later((retry_at - utcnow()).total_seconds(), str(error))

    async def _settle(
        self, delivery: Delivery, error: SendError | None, retry_at: datetime | None
    ) -> int | None:
        """Record the attempt; the next reply of the conversation when this one is done.

        The platform has already taken a sent reply: while the database is unreachable
        (restarting, overloaded) keep trying to record that, until the lease runs out,
        rather than let the lease expire and send it a second time.
        """
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.cfg.lease_seconds * 0.9
        pause = 0.2
        while True:
            try:
                async with self.runtime.sessions() as session, session.begin():
                    if error is None:
                        await mark_sent(session, delivery.message_id)
                    else:
                        paced = error.retry_after is not None
                        await mark_failed_attempt(
                            session, delivery.message_id, str(error), retry_at, counts=not paced
                        )
                    if retry_at is None and delivery.later_waiting:
                        return await next_in_line(session, delivery.message_id)
                    return None
            except Exception as exc:
                if not unavailable(exc) or loop.time() + pause > give_up:
                    raise
                log.warning(
                    "recording reply %s waits for the database: %s", delivery.message_id, exc
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _not_claimed(
        self, message_id: int, status: str | None, behind: datetime | None, following: int | None
    ) -> str:
        if status == SENDING:  # a passive reply (or a sender whose lease will expire) has it
            raise Later(AFTER_EARLIER * 4, "being sent elsewhere")
        if status == PENDING:
            wait = (behind - utcnow()).total_seconds() if behind else 0.0
            raise Later(wait + AFTER_EARLIER, "an earlier reply of the conversation is unsettled")
        if following is not None:  # settled elsewhere (a passive reply): the next may go
            await self.enqueue(following)
        return "settled"

    async def _send(self, delivery: Delivery) -> SendError | None:
        connector = self.runtime.connectors.get(delivery.platform)
        if connector is None:
            return SendError(f"no connector for platform {delivery.platform!r}", permanent=True)
        try:
            await connector.send(delivery)
        except SendError as exc:
            return exc
        except Exception as exc:
            log.exception("connector %s crashed sending %s", delivery.platform, delivery.message_id)
            return SendError(repr(exc))
        return None

    def _retry_at(self, delivery: Delivery, error: SendError):  # type: ignore[no-untyped-def]
        if error.permanent:
            return None
        if error.retry_after is not None:  # "not now" (pacing): not a failed attempt
            return utcnow() + timedelta(seconds=error.retry_after)
        if delivery.attempts >= self.cfg.max_attempts:
            return None
        steps = self.cfg.backoff_seconds
        delay = steps[min(delivery.attempts - 1, len(steps) - 1)]
        delay *= random.uniform(1 - JITTER, 1 + JITTER)  # spread a burst of retries out
        return utcnow() + timedelta(seconds=delay)
