"""Platform connectors: each verifies and parses its webhooks and sends replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from bot.events import InboundEvent
from storage.outbox import Delivery

Accept = Callable[[InboundEvent], Awaitable[bool]]


class SendError(Exception):
    """A reply could not be delivered; permanent errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Connector(Protocol):
    """What every platform module provides."""

    platform: str

    def register(self, app: web.Application, accept: Accept) -> None:
        """Add the platform's webhook routes."""

    async def start(self) -> None:
        """Open client sessions."""

    async def close(self) -> None:
        """Close client sessions."""

    async def send(self, delivery: Delivery) -> None:
        """Deliver one reply or raise SendError."""
