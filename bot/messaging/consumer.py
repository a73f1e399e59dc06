"""The queue consumer: reads the inbound stream, one conversation at a time, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from redis.exceptions import LockError, RedisError

from bot.messaging.pipeline import process_conversation
from bot.runtime import Runtime
from bot.tasks import being_cancelled
from storage.queue import Job, ack, ensure_group, read, reclaim
from storage.state import lock_key

log = logging.getLogger(__name__)


def consumer_name() -> str:
    """A name unique to this process, for the consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class QueueConsumer:
    """Reads jobs, serialises them per conversation with a Redis lock, and acknowledges them."""

    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.runtime = runtime
        self.cfg = runtime.settings.file.worker
        self.name = name or consumer_name()
        self._slots = asyncio.Semaphore(self.cfg.concurrency)
        self._inflight: set[asyncio.Task[None]] = set()
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Consume until stopping (or cancelled), also taking over entries of crashed consumers."""
        last_reclaim = 0.0
        while not self.stopping.is_set():
            try:
                await ensure_group(self.runtime.redis)
                while not self.stopping.is_set():
                    if being_cancelled():
                        raise asyncio.CancelledError
                    if time.monotonic() - last_reclaim > self.cfg.reclaim_idle_seconds / 2:
                        last_reclaim = time.monotonic()
                        idle_ms = int(self.cfg.reclaim_idle_seconds * 1000)
                        for job in await reclaim(self.runtime.redis, self.name, idle_ms):
                            await self._start(job)
                    free = max(1, self.cfg.concurrency - len(self._inflight))
                    for job in await read(self.runtime.redis, self.name, free, 1000):
                        await self._start(job)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if being_cancelled():
                    raise asyncio.CancelledError from exc
                log.warning("consumer %s lost Redis (%s); retrying in 1 s", self.name, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=1)

    async def _start(self, job: Job) -> None:
        await self._slots.acquire()
        if self.stopping.is_set():  # read but not started: another consumer takes it over
            self._slots.release()
            return
        task = asyncio.get_running_loop().create_task(
            self._guarded(job), name=f"job-{job.entry_id}"
        )
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _guarded(self, job: Job) -> None:
        try:
            await self.handle(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "job %s (message %s) failed; it stays queued", job.entry_id, job.message_id
            )
        finally:
            self._slots.release()

    async def handle(self, job: Job) -> None:
        """Process the job's conversation under its lock; acknowledge once all is done."""
        cfg = self.cfg
        while True:
            lock = self.runtime.redis.lock(
                lock_key(job.conversation_id),
                timeout=cfg.lock_timeout_seconds,
                blocking_timeout=cfg.lock_timeout_seconds,
            )
            if not await lock.acquire():
                return  # still busy elsewhere; the entry stays pending and is reclaimed later
            try:
                finished = await process_conversation(self.runtime, job.conversation_id)
            finally:
                try:
                    await lock.release()
                except LockError:
                    log.warning("lock of conversation %s expired while held", job.conversation_id)
            if finished:
                await ack(self.runtime.redis, job.entry_id)
                return
            if self.stopping.is_set():
                return  # NLU is down and we are stopping: the entry stays pending for others
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=cfg.nlu_retry_seconds)

    async def drain(self, seconds: float) -> int:
        """Take no new work, let messages in flight finish (bounded); return how many were cut."""
        self.stopping.set()
        if self._inflight:
            log.info("consumer %s draining %d message(s)", self.name, len(self._inflight))
            await asyncio.wait(list(self._inflight), timeout=seconds)
        cut = len(self._inflight)
        if cut:
            log.warning("consumer %s: %d message(s) cut after %.0f s", self.name, cut, seconds)
        await self.stop()
        return cut

    async def stop(self) -> None:
        """Cancel jobs in flight (their entries stay pending and are redone elsewhere)."""
        self.stopping.set()
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=5)
