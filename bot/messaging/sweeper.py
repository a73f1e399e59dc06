"""The sweeper: queues stored messages that never reached the queue (Redis was down then)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.runtime import Runtime
from bot.tasks import being_cancelled
from storage.base import utcnow
from storage.messages import stale_received
from storage.queue import enqueue

log = logging.getLogger(__name__)


async def sweep_forever(runtime: Runtime, stopping: asyncio.Event | None = None) -> None:
    """Queue again stored messages never queued (Redis was down then), until stopping is set."""
    cfg = runtime.settings.file.worker
    stopping = stopping or asyncio.Event()
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=cfg.sweep_interval_seconds)
        if stopping.is_set():
            return
        try:
            async with runtime.sessions() as session:
                older = utcnow() - timedelta(seconds=cfg.sweep_after_seconds)
                stale = await stale_received(session, older)
            for message_id, conversation_id in stale:
                marker = f"linli:swept:{{{conversation_id}}}:{message_id}"
                if await runtime.redis.set(marker, "1", nx=True, ex=60):
                    await enqueue(runtime.redis, message_id, conversation_id)
                    log.info("swept message %s into the queue", message_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep sweeping through database or Redis outages
            if being_cancelled():
                raise asyncio.CancelledError from exc
            log.warning("sweep failed: %s", exc)
