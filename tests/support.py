"""Test helpers: databases built by Alembic, a signed-message sender and a reply receiver."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings, load_settings
from bot.connectors.signing import signed_headers, verify
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.seed import read_seed, seed_all

REPO = Path(__file__).resolve().parent.parent
SECRET = "test-secret-0123456789"
LINK_KEY = "test-link-key-0123456789"
FAST = {
    "worker": {
        "concurrency": 8,
        "lock_timeout_seconds": 5,
        "reclaim_idle_seconds": 2,
        "sweep_after_seconds": 1,
        "sweep_interval_seconds": 0.5,
        "nlu_retry_seconds": 0.5,
    },
    "delivery": {
        "backoff_seconds": [0.2, 0.5],
        "max_attempts": 20,
        "lease_seconds": 5,
        "poll_seconds": 0.2,
    },
}


def write_config(directory: Path, overrides: dict[str, Any] | None = None) -> Path:
    """Copy config.yml with fast timings (and any overrides) into a test directory."""
    data = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    for key, value in {**FAST, **(overrides or {})}.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    data["seed_file"] = str(REPO / "seed" / "demo.yml")
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def make_settings(
    directory: Path,
    db_url: str,
    redis_url: str,
    nlu_url: str,
    outbound_url: str | None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Settings for an app under test, read through the real loader."""
    env = {
        "LINLI_CONFIG": str(write_config(directory, overrides)),
        "LINLI_DATABASE_URL": db_url,
        "LINLI_REDIS_URL": redis_url,
        "LINLI_NLU_URL": nlu_url,
        "LINLI_GENERIC_SECRET": SECRET,
        "LINLI_SECRET_KEY": LINK_KEY,
        "LINLI_VAR_DIR": str(directory / "var"),
    }
    if outbound_url:
        env["LINLI_GENERIC_OUTBOUND_URL"] = outbound_url
    return load_settings(env)


async def seed_demo(url: str) -> None:
    """Load the demo community (grids, workers, partner units) into a database."""
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await seed_all(session, read_seed(REPO / "seed" / "demo.yml"))
    await engine.dispose()


class DatabaseFactory:
    """Fresh migrated databases: SQLite files copied from a template, PostgreSQL from TEMPLATE."""

    def __init__(self, base_url: str | None, workdir: Path) -> None:
        self.base_url = base_url
        self.workdir = workdir
        self.template: str | None = None
        self.created: list[str] = []

    def _sqlite_new(self) -> str:
        template = self.workdir / "template.db"
        if not template.exists():
            upgrade(f"sqlite+aiosqlite:///{template}")
            asyncio.run(seed_demo(f"sqlite+aiosqlite:///{template}"))
        path = self.workdir / f"db-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def _pg_exec(self, statement: str) -> None:
        engine = create_engine(self.base_url or "")
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
        await engine.dispose()

    async def _pg_new(self) -> str:
        base = make_url(self.base_url or "")
        if self.template is None:
            self.template = f"linli_tpl_{os.getpid()}"
            await self._pg_exec(f"DROP DATABASE IF EXISTS {self.template}")
            await self._pg_exec(f"CREATE DATABASE {self.template}")
            template_url = base.set(database=self.template).render_as_string(False)
            await asyncio.to_thread(upgrade, template_url)
            await seed_demo(template_url)
        name = f"linli_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        await self._pg_exec(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        self.created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    async def new(self, kind: str) -> str:
        """A URL of a new, migrated, empty database of the given kind."""
        if kind == "sqlite":
            return await asyncio.to_thread(self._sqlite_new)
        return await self._pg_new()

    async def drop_all(self) -> None:
        """Remove the PostgreSQL databases this session made."""
        if not self.base_url:
            return
        for name in [*self.created, *([self.template] if self.template else [])]:
            await self._pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Receiver:
    """A local stand-in for a platform's send endpoint: records signed replies, can fail."""

    fail_next: int = 0
    fail_status: int = 503
    posts: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0
    bad_signatures: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        """Accept one outbound post."""
        body = await request.read()
        if verify(
            SECRET,
            request.headers.get("X-Linli-Timestamp"),
            request.headers.get("X-Linli-Signature"),
            body,
            300,
        ):
            self.bad_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            return web.json_response({"error": "down"}, status=self.fail_status)
        self.posts.append(json.loads(body))
        self.arrived.set()
        return web.json_response({"ok": True})

    def for_user(self, user_id: str) -> list[str]:
        """Texts delivered to one user, in order."""
        return [p["text"] for p in self.posts if p["user_id"] == user_id]

    async def wait_for(self, user_id: str, count: int, within: float = 30.0) -> list[str]:
        """Wait until a user has received at least count replies."""
        deadline = time.monotonic() + within
        while len(self.for_user(user_id)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{user_id}: expected {count} replies, got {self.for_user(user_id)}"
                )
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout=0.2)
            except TimeoutError:
                pass
        return self.for_user(user_id)


def message_body(user: str, text: str, message_id: str | None = None, **extra: Any) -> bytes:
    """A generic-connector webhook body."""
    payload = {
        "message_id": message_id or uuid.uuid4().hex,
        "user_id": user,
        "chat_id": extra.pop("chat_id", user),
        "text": text,
        "timestamp": int(time.time()),
        **extra,
    }
    return json.dumps(payload, ensure_ascii=False).encode()


async def post_signed(client: TestClient, body: bytes, **headers: str) -> Any:
    """POST a signed body to the generic webhook."""
    merged = {**signed_headers(SECRET, body), **headers}
    return await client.post("/webhooks/generic", data=body, headers=merged)


async def console_login(client: TestClient, username: str, password: str, **kwargs: Any) -> Any:
    """Log in to the console as a browser does: open the form, post it with its CSRF token."""
    form = await (await client.get("/admin/login")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    assert found is not None, "the login form has no CSRF token"
    data = {"csrf": found.group(1), "username": username, "password": password}
    return await client.post("/admin/login", data=data, **kwargs)


async def say(client: TestClient, user: str, text: str, message_id: str | None = None) -> str:
    """Send a resident message and assert it was accepted; return its message id."""
    mid = message_id or uuid.uuid4().hex
    resp = await post_signed(client, message_body(user, text, mid))
    assert resp.status == 200, await resp.text()
    return mid


@dataclass
class NLUProxy:
    """A real HTTP hop in front of Rasa that tests can take down or slow down."""

    target: str
    down: bool = False
    delay: float = 0.0
    parses: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Forward to Rasa unless down; count and optionally delay parse calls."""
        if self.down:
            return web.json_response({"error": "down"}, status=503)
        body = await request.read()
        if request.path == "/model/parse":
            self.parses += 1
            self.started.set()
            await asyncio.sleep(self.delay)
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method,
                self.target + request.path_qs,
                data=body or None,
                headers={"Content-Type": "application/json"},
            ) as resp:
                return web.Response(
                    body=await resp.read(), status=resp.status, content_type="application/json"
                )
