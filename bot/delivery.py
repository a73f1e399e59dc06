"""Outbox delivery: send due replies through their connector, retry failures with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta

from bot.connectors import SendError
from bot.runtime import Runtime
from bot.tasks import being_cancelled
from storage.base import utcnow
from storage.outbox import (
    Delivery,
    claim_delivery,
    due_deliveries,
    mark_failed_attempt,
    mark_sent,
    release_expired_leases,
)

log = logging.getLogger(__name__)
JITTER = 0.2  # a retry waits its backoff step ±20%


class Deliverer:
    """Sends outbox messages; several processes may run one each."""

    def __init__(self, runtime: Runtime, parallel: int = 16) -> None:
        self.runtime = runtime
        self.cfg = runtime.settings.file.delivery
        self._parallel = asyncio.Semaphore(parallel)

    async def run(self) -> None:
        """Deliver until cancelled; wakes at once when a worker adds replies."""
        wake = self.runtime.outbox_wake
        rounds = 0
        while True:
            wake.clear()
            try:
                if rounds % 30 == 0:
                    async with self.runtime.sessions() as session, session.begin():
                        await release_expired_leases(session)
                rounds += 1
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if being_cancelled():
                    raise asyncio.CancelledError from exc
                log.warning("delivery round failed: %s", exc)
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.cfg.poll_seconds)

    async def deliver_due(self) -> int:
        """Send every reply that is due now; return how many were attempted."""
        async with self.runtime.sessions() as session:
            ids = await due_deliveries(session)
        if ids:
            await asyncio.gather(*(self._deliver(i) for i in ids))
        return len(ids)

    async def _deliver(self, message_id: int) -> None:
        async with self._parallel:
            async with self.runtime.sessions() as session, session.begin():
                delivery = await claim_delivery(session, message_id, self.cfg.lease_seconds)
            if delivery is None:
                return
            error = await self._send(delivery)
            async with self.runtime.sessions() as session, session.begin():
                if error is None:
                    await mark_sent(session, message_id)
                    return
                retry_at = self._retry_at(delivery, error)
                paced = error.retry_after is not None
                await mark_failed_attempt(
                    session, message_id, str(error), retry_at, counts=not paced
                )
            if paced:
                log.info("reply %s waits %.1f s: %s", message_id, error.retry_after, error)
                return
            log.warning(
                "reply %s attempt %d failed: %s (%s)",
                message_id, delivery.attempts, error, "will retry" if retry_at else "giving up",
            )  # fmt: skip

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
