"""The live parts of a running service, created once by the app factory and passed around."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.metrics import Metrics
from bot.passwords import PasswordChecks
from bot.throttle import Throttle
from handlers.context import CategoryRule, Services
from handlers.registry import Registry
from nlu.client import NLUClient
from storage.base import utcnow

if TYPE_CHECKING:
    from bot.connectors.base import Connector


@dataclass
class Runtime:
    """Engine, sessions, Redis, NLU client, handlers, connectors and login checks of a process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    nlu: NLUClient
    registry: Registry
    services: Services
    throttle: Throttle  # back-off after failed logins and tokens (Redis)
    passwords: PasswordChecks  # argon2 off the event loop
    connectors: dict[str, Connector] = field(default_factory=dict)
    outbox_wake: asyncio.Event = field(default_factory=asyncio.Event)
    clock: Callable[[], datetime] = utcnow  # tests replace it to move time (SLA, reminders)
    metrics: Metrics = field(default_factory=Metrics)
    # what the outbox enqueuer has been told since it last looked (see wake_outbox)
    outbox_ready: set[int] = field(default_factory=set)
    outbox_scan: bool = False

    def wake_outbox(self, message_ids: Iterable[int] | None = None) -> None:
        """Replies were committed: enqueue these ids, or (None) look for every due reply."""
        if message_ids is None:
            self.outbox_scan = True
        else:
            self.outbox_ready.update(message_ids)
        self.outbox_wake.set()

    def take_outbox_work(self) -> tuple[list[int], bool]:
        """The ids to enqueue and whether to look for every due reply; resets both."""
        ids, scan = sorted(self.outbox_ready), self.outbox_scan
        self.outbox_ready.clear()
        self.outbox_scan = False
        return ids, scan


def services_from(settings: Settings) -> Services:
    """Derive what handlers need from the file configuration."""
    cfg = settings.file
    return Services(
        community=cfg.community,
        category_labels={name: c.label for name, c in cfg.categories.items()},
        urgent_categories=frozenset(n for n, c in cfg.categories.items() if c.urgent),
        report_intents=dict(cfg.report_intents),
        min_confidence=cfg.dialogue.min_confidence,
        group_min_confidence=cfg.dialogue.group_min_confidence,
        abandon_minutes=cfg.dialogue.abandon_minutes,
        report_min_confidence=cfg.dialogue.report_min_confidence,
        categories={
            name: CategoryRule(
                label=c.label,
                accept_minutes=c.accept_minutes,
                resolve_hours=c.resolve_hours,
                urgent=c.urgent,
                route=c.route,
            )
            for name, c in cfg.categories.items()
        },
        public_url=settings.public_url,
        link_key=(settings.secret_key or "").encode(),
        retention_days=cfg.privacy.message_retention_days,
    )


SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
