"""Shared fixtures: real Redis, real SQLite/PostgreSQL, the trained Rasa model, a reply receiver."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Settings
from storage.embedded_redis import EmbeddedRedis
from tests.support import DatabaseFactory, Receiver, make_settings

pytest_plugins = ["tests.conftest_rasa", "tests.conftest_platforms"]

PG_URL = os.environ.get("LINLI_TEST_DATABASE_URL")
DB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_STARTED = pytest.StashKey[float]()


def _cancel_all_tasks_bounded(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio's end-of-loop cleanup, but bounded: cancel what is left, wait at most 10 s.

    A task cancelled in the middle of an aiosqlite statement can wait for ever on the
    connection's thread when the loop closes (seen about once in five full runs, in the
    teardown of tests with two apps on one SQLite file); the stock cleanup then waits for
    ever and the suite hangs. Everything a test checks has been checked by then.
    """
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=10))
    for task in pending:
        if task.done() and not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {"message": "unhandled exception during loop shutdown", "task": task,
                 "exception": task.exception()}
            )  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def _bounded_loop_teardown() -> Iterator[None]:
    """Every test's event loop closes within a bounded time (see _cancel_all_tasks_bounded)."""
    import asyncio.runners

    original = asyncio.runners._cancel_all_tasks  # type: ignore[attr-defined]
    asyncio.runners._cancel_all_tasks = _cancel_all_tasks_bounded  # type: ignore[attr-defined]
    yield
    asyncio.runners._cancel_all_tasks = original  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shared by the whole session."""
    return tmp_path_factory.mktemp("linli")


@pytest.fixture(scope="session")
def db_factory(workdir: Path) -> Iterator[DatabaseFactory]:
    """Makes migrated databases; drops the PostgreSQL ones at the end."""
    factory = DatabaseFactory(PG_URL, workdir)
    yield factory
    asyncio.run(factory.drop_all())


@pytest.fixture(params=DB_KINDS)
def db_kind(request: pytest.FixtureRequest) -> str:
    """Each storage-touching test runs on SQLite and, when configured, on PostgreSQL."""
    if request.param == "postgres" and not PG_URL:
        pytest.skip("LINLI_TEST_DATABASE_URL is not set (make test sets it when PostgreSQL runs)")
    return str(request.param)


@pytest.fixture
async def db_url(db_factory: DatabaseFactory, db_kind: str) -> str:
    """URL of a fresh database built with `alembic upgrade head`."""
    return await db_factory.new(db_kind)


@pytest.fixture(scope="session")
def redis_server(workdir: Path) -> Iterator[str]:
    """A real Redis: LINLI_TEST_REDIS_URL if given, else an embedded server for the session."""
    external = os.environ.get("LINLI_TEST_REDIS_URL")
    if external:
        yield external
        return
    server = EmbeddedRedis(workdir / "redis", appendonly=False)
    yield server.start()
    server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied before each test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A local platform send endpoint; yields the recorder and its URL."""
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/outbound", rec.handle)
    server = TestServer(app)
    await server.start_server()
    yield rec, str(server.make_url("/outbound"))
    await server.close()


AppMaker = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def make_client(
    tmp_path: Path, db_url: str, redis_url: str, receiver: tuple[Receiver, str]
) -> AsyncIterator[AppMaker]:
    """Start the real app (web + worker) against real parts; yields a factory of test clients."""
    clients: list[TestClient] = []

    async def make(nlu_url: str, **kwargs: Any) -> TestClient:
        overrides = kwargs.pop("overrides", None)
        settings: Settings = make_settings(
            tmp_path, db_url, kwargs.pop("redis", redis_url), nlu_url, receiver[1], overrides
        )
        client = TestClient(TestServer(create_app(settings, **kwargs)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    await _settle(db_url)
    for client in clients:
        await client.close()


async def _settle(db_url: str, within: float = 3.0) -> None:
    """Give in-flight sends a moment to finish before the apps stop (bounded, no assertion).

    Stopping an app while aiosqlite is mid-statement can hang the event loop's teardown;
    tests that leave work behind on purpose (Rasa down, platform failing) just wait 3 s.
    """
    from tests.db_helpers import outbox_idle

    await outbox_idle(db_url, within, must=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember when the run began (the scenario summary below must be this run's)."""
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """After a run of the scenario suite, print its summary (also under `make test`).

    Under pytest-xdist the suite ran in a worker process: its report file, written during
    this run, is read back instead.
    """
    import json
    import sys

    runner = sys.modules.get("tests.scenarios.runner")
    lines = list(runner.SUMMARY) if runner is not None else []
    if not lines:
        from tests.scenarios import runner

        report = runner.REPORT
        started = config.stash.get(_STARTED, time.time())
        if not report.exists() or report.stat().st_mtime < started:
            return
        lines = runner.format_summary(json.loads(report.read_text(encoding="utf-8")))
    terminalreporter.section("conversation scenarios")
    for line in lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"report: {runner.REPORT}")
