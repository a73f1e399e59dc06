"""The queue consumer: reads the inbound stream, one conversation at a time, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot.messaging.pipeline import process_conversation
from bot.runtime import Runtime
from bot.tasks import background_task, being_cancelled
from storage.queue import Job, ack, ensure_group, read, reclaim
from storage.state import lock_key

log = logging.getLogger(__name__)


def consumer_name() -> str:
    """A name unique to this process, for the consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


BUSY_RETRY_SECONDS = (0.1, 0.2, 0.5)  # then every 0.5 s, until the lock is free or reclaimed


class QueueConsumer:
    """Reads jobs, serialises them per conversation with a Redis lock, and acknowledges them.

    A slot never waits for a busy conversation. An entry whose conversation is being
    processed in this process is handed to the slot that holds the lock: that slot goes
    through the conversation's messages again before it lets go, and acknowledges the
    entry. An entry whose conversation another process holds waits outside the slots and
    is tried again shortly (or is reclaimed by whoever holds the lock's backlog last). The
    lock is renewed while its holder works, so a long backlog never outlives it.
    """

    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.runtime = runtime
        self.cfg = runtime.settings.file.worker
        self.name = name or consumer_name()
        self._slots = asyncio.Semaphore(self.cfg.concurrency)
        self._inflight: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None]] = set()  # busy elsewhere: tried again later
        self._later: set[str] = set()  # the entry ids those tasks will try again
        self._handed: dict[int, list[Job]] = {}  # conversations processed here: entries to ack
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

    async def _start(self, job: Job, attempt: int = 0) -> None:
        await self._slots.acquire()
        if self.stopping.is_set():  # read but not started: another consumer takes it over
            self._slots.release()
            return
        task = asyncio.get_running_loop().create_task(
            self._guarded(job, attempt), name=f"job-{job.entry_id}"
        )
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _guarded(self, job: Job, attempt: int = 0) -> None:
        try:
            await self.handle(job, attempt)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "job %s (message %s) failed; it stays queued", job.entry_id, job.message_id
            )
        finally:
            self._slots.release()

    async def handle(self, job: Job, attempt: int = 0) -> None:
        """Process the job's conversation under its lock, or hand the job to its holder."""
        if attempt == 0 and job.entry_id in self._later:
            return  # reclaimed while it waits here to be tried again: that try is enough
        handed = self._handed.get(job.conversation_id)
        if handed is not None:  # a slot here holds the conversation: it acks the entry
            if job not in handed:
                handed.append(job)
            return
        lock = self.runtime.redis.lock(
            lock_key(job.conversation_id), timeout=self.cfg.lock_timeout_seconds
        )
        if not await lock.acquire(blocking=False):
            self._try_later(job, attempt)  # another process holds it: never wait in a slot
            return
        self._handed[job.conversation_id] = handed = [job]
        renewing = background_task(
            self._renew(lock, job.conversation_id), name=f"lock-{job.conversation_id}"
        )
        try:
            await self._work_through(job.conversation_id, handed, renewing)
        finally:
            del self._handed[job.conversation_id]  # before the release: no handover gets lost
            renewing.cancel()
            try:
                await lock.release()
            except LockError:
                log.warning("lock of conversation %s expired while held", job.conversation_id)

    async def _work_through(
        self, conversation_id: int, handed: list[Job], renewing: asyncio.Task[None]
    ) -> None:
        """Process the conversation until a pass started after every entry handed over."""
        done = 0
        while done < len(handed):
            covered = len(handed)  # a pass reads the messages of every entry handed so far
            # no further message is begun once the lock is lost (the renewal ends only then)
            # or the consumer is stopping: a drain finishes the message in hand, not a backlog
            if await process_conversation(
                self.runtime,
                conversation_id,
                lambda: not renewing.done() and not self.stopping.is_set(),
            ):
                for job in handed[done:covered]:
                    await ack(self.runtime.redis, job.entry_id)
                done = covered
            elif renewing.done():
                return  # the lock was lost: the entries stay pending for its next holder
            elif self.stopping.is_set():
                return  # NLU is down and we are stopping: the entries stay pending for others
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=self.cfg.nlu_retry_seconds)
            if self.stopping.is_set():
                return  # entries handed over meanwhile stay pending: another worker takes them

    async def _renew(self, lock: Lock, conversation_id: int) -> None:
        """Keep the lock while its holder works; end (which stops the holder) if it was lost."""
        while True:
            await asyncio.sleep(self.cfg.lock_timeout_seconds / 3)
            try:
                await lock.reacquire()
            except LockError:
                log.warning("lock of conversation %s lost while held", conversation_id)
                return
            except (RedisError, OSError) as exc:  # the lock may still hold: try again soon
                log.warning("lock of conversation %s not renewed: %s", conversation_id, exc)

    def _try_later(self, job: Job, attempt: int) -> None:
        """Try the job again after a short wait that holds no slot (backing off to 0.5 s)."""
        if self.stopping.is_set():
            return  # the entry stays pending: another worker reclaims it
        delay = BUSY_RETRY_SECONDS[min(attempt, len(BUSY_RETRY_SECONDS) - 1)]

        async def again() -> None:
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            finally:
                self._later.discard(job.entry_id)
            if not self.stopping.is_set():
                await self._start(job, attempt + 1)

        self._later.add(job.entry_id)
        task = background_task(again(), name=f"later-{job.entry_id}")
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

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
        for task in [*self._inflight, *self._waiting]:
            task.cancel()
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=5)
