"""Send leases kept alive in Redis while their sender lives.

A claimed reply is SENDING under a lease in SQL (`next_attempt_at`); the sweep of any worker
hands an expired lease back to the outbox, so a reply whose sender crashed mid-send is sent
again. A sender that is alive but slow (on SQLite, recording the send can wait for the write
lock for up to the busy timeout, longer than a short lease) must not lose its reply that
way: the reply would go out twice. Every process that sends keeps, in Redis, a key per reply
it holds, renewed every third of a lease with a time-to-live of two leases; the sweep
releases an expired lease only when no process keeps it alive. A killed process stops
renewing, and its replies are released at most two leases after its last renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
PREFIX = "linli:outbox:held:"


def _key(message_id: int) -> str:
    return f"{PREFIX}{message_id}"


class LeaseKeeper:
    """The replies this process is sending or recording, kept alive in Redis."""

    def __init__(self, redis: Redis, lease_seconds: float) -> None:
        self.redis = redis
        self.lease = max(0.5, lease_seconds)
        self._held: dict[int, int] = {}  # message id -> holds (a reply is held once at a time)

    @contextlib.contextmanager
    def hold(self, message_id: int) -> Iterator[None]:
        """Keep the reply's lease alive until the block ends (renewed by run())."""
        self._held[message_id] = self._held.get(message_id, 0) + 1
        try:
            yield
        finally:
            left = self._held.pop(message_id) - 1
            if left:
                self._held[message_id] = left

    async def run(self) -> None:
        """Renew the keys of the held replies every third of a lease, until cancelled."""
        while True:
            await asyncio.sleep(self.lease / 3)
            if not self._held:
                continue
            try:
                await self.renew(list(self._held))
            except (RedisError, OSError) as exc:  # the sweep cannot release without Redis
                log.warning("could not renew %d send lease(s): %s", len(self._held), exc)

    async def renew(self, message_ids: Sequence[int]) -> None:
        """Mark these replies as held by a live sender for two leases."""
        ttl = max(1, round(self.lease * 2 * 1000))
        async with self.redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.set(_key(message_id), 1, px=ttl)
            await pipe.execute()


async def kept_alive(redis: Redis, message_ids: Sequence[int]) -> set[int]:
    """The replies among these that a live sender still holds (raises when Redis is down)."""
    if not message_ids:
        return set()
    values = await redis.mget([_key(m) for m in message_ids])
    return {m for m, value in zip(message_ids, values, strict=True) if value is not None}
