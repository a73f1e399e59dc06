"""Fast conversation tests: the router and engine on a seeded SQLite, with recorded parses.

No web server, no queue, no Rasa: each message is given with the parse the model gave it
(intent, confidence, entities as {entity: value}), and the turn runs exactly as the
pipeline runs it (one transaction, the state carried to the next message).

    async with Dialog.open(tmp_path) as chat:
        await chat.say("东关中巷路灯坏了", "report_streetlight", location="东关中巷")
        await chat.say("对对 谢谢啊", "affirm")
        assert chat.action.startswith("ticket_created")
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import load_settings
from bot.runtime import services_from
from handlers.context import Context, Services
from handlers.modules import default_jobs, default_registry
from handlers.registry import Registry
from handlers.router import respond
from nlu.client import Entity, ParseResult
from nlu.normalize import normalize
from nlu.understand import with_place
from storage.db import create_engine, session_factory
from storage.messages import store_inbound
from storage.migrate import upgrade
from storage.residents import Resident, get_or_create_conversation
from tests.support import REPO, seed_demo, write_config

# Monday 2026-11-30 10:00 in Shanghai, as in the scenario suite
START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
_TEMPLATE: dict[str, Path] = {}


async def _template(directory: Path) -> Path:
    """A migrated, seeded SQLite file, made once per test run and copied for each dialog."""
    if "db" not in _TEMPLATE:
        path = directory / "dialog-template.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
        await seed_demo(url)
        _TEMPLATE["db"] = path
    return _TEMPLATE["db"]


def services(directory: Path) -> Services:
    """The handlers' view of the repository's config.yml."""
    env = {
        "LINLI_CONFIG": str(write_config(directory, None)),
        "LINLI_DATABASE_URL": "sqlite+aiosqlite:///unused.db",
        "LINLI_VAR_DIR": str(directory / "var"),
    }
    return services_from(load_settings(env))


def parse(text: str, intent: str | None, confidence: float, **entities: str) -> ParseResult | None:
    """A recorded parse: the intent, and each entity found where its value occurs in the text."""
    if intent is None:
        return None
    found = []
    for name, value in entities.items():
        start = text.find(value)
        if start < 0:
            raise ValueError(f"entity {name}={value!r} is not in {text!r}")
        found.append(Entity(name, value, start, start + len(value)))
    recorded = ParseResult(text=text, intent=intent, confidence=confidence, entities=tuple(found))
    return with_place(recorded, normalize(text).text)  # as the pipeline reads it


@dataclass
class Dialog:
    """One resident talking to the bot, turn by turn."""

    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    services: Services
    registry: Registry
    user: str = "dialog-user"
    now: datetime = START
    state: dict[str, Any] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)
    action: str | None = None
    message_id: int = 0

    @classmethod
    @asynccontextmanager
    async def open(cls, directory: Path, *, user: str = "dialog-user") -> AsyncIterator[Dialog]:
        """A fresh seeded community and a new resident."""
        copy = directory / f"dialog-{user}.db"
        shutil.copy(await _template(directory), copy)
        engine = create_engine(f"sqlite+aiosqlite:///{copy}")
        try:
            yield cls(
                session_factory(engine), engine, services(directory), default_registry(), user
            )
        finally:
            await engine.dispose()

    async def say(
        self,
        text: str,
        intent: str | None = None,
        confidence: float = 0.95,
        **entities: str,
    ) -> list[str]:
        """Send one message with its recorded parse; the bot's replies to it."""
        self.message_id += 1
        async with self.sessions() as session, session.begin():
            conversation = await get_or_create_conversation(
                session, "generic", self.user, self.user, last_message_at=self.now
            )
            await session.flush()
            resident = await session.get_one(Resident, conversation.resident_id)
            message = await store_inbound(
                session,
                conversation_id=conversation.id,
                platform="generic",
                platform_msg_id=f"{self.user}-{self.message_id}",
                text=text,
            )
            assert message is not None
            await session.flush()
            ctx = Context(
                session=session,
                services=self.services,
                conversation=conversation,
                resident=resident,
                message_id=message.id,
                text=text,
                parse=parse(text, intent, confidence, **entities),
                now=self.now,
                state=dict(self.state),
            )
            await respond(ctx, self.registry)
            self.state = ctx.state
        self.replies, self.action = ctx.replies, ctx.action
        return ctx.replies

    async def wait(self, minutes: float) -> int:
        """The resident goes quiet this long; every periodic job runs once at the new time."""
        self.now += timedelta(minutes=minutes)
        done = 0
        for job in default_jobs():
            async with self.sessions() as session, session.begin():
                done += await job.func(session, self.services, self.now)
        return done

    async def scalars(self, statement: Any) -> list[Any]:
        """Rows of a select, to check what the conversation made."""
        async with self.sessions() as session:
            return list((await session.scalars(statement)).all())


__all__ = ["REPO", "Dialog", "parse", "services"]
