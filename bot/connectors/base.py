"""Platform connectors: each verifies and parses its webhooks and sends replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web
from redis.asyncio import Redis

from bot.events import InboundEvent
from storage.outbox import Delivery

Accept = Callable[[InboundEvent], Awaitable[bool]]


class SendError(Exception):
    """A reply could not be delivered; permanent errors are not retried.

    retry_after (seconds) means "not now": the reply waits that long (pacing, the platform's
    rate limit) and the attempt does not count as a failure.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Connector(Protocol):
    """What every platform module provides."""

    platform: str

    def register(self, app: web.Application, accept: Accept) -> None:
        """Add the platform's webhook routes."""

    async def start(self, redis: Redis) -> None:
        """Open client sessions; Redis is shared by all processes (token caches, pacing)."""

    async def close(self) -> None:
        """Close client sessions."""

    async def send(self, delivery: Delivery) -> None:
        """Deliver one reply or raise SendError."""
