"""What every connector is: the message it turns a webhook into, how it sends, how it fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web
from redis.asyncio import Redis

from storage.outbox import Delivery


@dataclass(frozen=True)
class InboundEvent:
    """A resident's message, platform details removed."""

    platform: str
    message_id: str
    user_id: str
    chat_id: str
    text: str
    timestamp: datetime
    user_name: str | None = None
    is_group: bool = False
    mentioned: bool = False
    # Media ids, picture/link URLs or geo: URIs the message carried (not stored yet).
    attachments: tuple[str, ...] = ()

    @property
    def addressed_to_bot(self) -> bool:
        """Direct messages always are; in a group chat only when the bot is mentioned."""
        return not self.is_group or self.mentioned


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
