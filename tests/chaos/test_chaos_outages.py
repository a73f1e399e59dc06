"""Chaos: Redis restarted, Rasa stopped for 30 s, the send API failing 60 s, PostgreSQL restarted."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from nlu.rasa_process import RasaServer
from nlu.train import train
from tests.chaos.private_pg import PrivateCluster, pg_bin_dir
from tests.chaos.scenario import assert_nothing_lost_or_twice, run_scenario
from tests.chaos.stack import Stack
from tests.support import DatabaseFactory

pytestmark = [pytest.mark.chaos, pytest.mark.rasa]
RASA_DOWN_SECONDS = 30
PLATFORM_DOWN_SECONDS = 60
# 60 s of 5xx must not exhaust the retries: backoff steps of at most 5 s, 100 attempts.
PATIENT_DELIVERY = {"delivery": {"backoff_seconds": [0.5, 1, 2, 5], "max_attempts": 100}}
# Rasa going away and the send API failing do not depend on the database (the webhook's and
# the outbox's database paths are covered by the other scenarios on both): SQLite only.
ONE_DATABASE = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)


async def test_redis_restarted_mid_run(make_stack, db_url, db_kind, rasa_url):
    """Stop the embedded Redis (appendonly) for 3 s mid-run and start it again on its files."""
    stack = await make_stack(db_url, rasa_url, workers=2)

    async def restart_redis(s: Stack) -> None:
        await asyncio.to_thread(s.redis.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(s.redis.start)

    result = await run_scenario("redis-restart", db_kind, stack, 400, restart_redis)
    assert_nothing_lost_or_twice(result)


@pytest.fixture(scope="module")
def own_rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    """A Rasa server these tests may stop and start (not the session's shared one)."""
    server = RasaServer(train(), log_dir=tmp_path_factory.mktemp("own-rasa"))
    server.start()
    try:
        server.wait_ready(timeout=300)
        yield server
    finally:
        server.stop(timeout=10)


@ONE_DATABASE
async def test_rasa_stopped_for_30_seconds(make_stack, db_url, db_kind, own_rasa):
    """Rasa goes away for 30 s mid-run; messages wait (cached parses still flow) and resume."""
    if not own_rasa.running():  # a previous run of this test left it stopped
        own_rasa.start()
        await own_rasa.wait_ready_async(timeout=300)
    stack = await make_stack(db_url, own_rasa.url, workers=2)

    async def stop_rasa(s: Stack) -> None:
        stopped = time.monotonic()
        await asyncio.to_thread(own_rasa.stop, 10)  # SIGTERM, then SIGKILL after 10 s
        await asyncio.sleep(max(0.0, stopped + RASA_DOWN_SECONDS - 25 - time.monotonic()))
        own_rasa.start()  # loading the model takes about 25 s: down for about 30 s in all
        await own_rasa.wait_ready_async(timeout=300)
        print(f"Rasa was down for {time.monotonic() - stopped:.0f} s")

    result = await run_scenario("rasa-stop-30s", db_kind, stack, 320, stop_rasa)
    assert_nothing_lost_or_twice(result)


@ONE_DATABASE
async def test_send_api_failing_for_60_seconds(make_stack, db_url, db_kind, rasa_url):
    """The platform's send API answers 503 for 60 s, then recovers; replies go out once."""
    stack = await make_stack(db_url, rasa_url, workers=2, overrides=PATIENT_DELIVERY)

    async def fail_sends(s: Stack) -> None:
        s.platform.failing(True)
        await asyncio.sleep(PLATFORM_DOWN_SECONDS)
        s.platform.failing(False)

    result = await run_scenario("send-api-5xx-60s", db_kind, stack, 320, fail_sends)
    assert stack.platform.receiver.failures > 0
    assert_nothing_lost_or_twice(result)


@pytest.fixture
async def private_pg() -> AsyncIterator[tuple[PrivateCluster, str]]:
    """A PostgreSQL cluster of this test's own (restartable), with a migrated, seeded database."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) not installed"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="linli-pg-"))
    cluster = PrivateCluster(directory / "cluster", bin_dir)
    try:
        await asyncio.to_thread(cluster.init)
        await asyncio.to_thread(cluster.start)
        url = await DatabaseFactory(cluster.url, directory).new("postgres")
        yield cluster, url
    finally:
        await asyncio.to_thread(cluster.destroy)
        shutil.rmtree(directory, ignore_errors=True)


async def test_postgresql_restarted_mid_run(make_stack, private_pg, rasa_url):
    """Restart the (private) PostgreSQL server mid-run: the webhook refuses, the platform retries."""
    cluster, url = private_pg
    stack = await make_stack(url, rasa_url, workers=2)

    async def restart_pg(s: Stack) -> None:
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(cluster.start)

    result = await run_scenario("postgres-restart", "postgres", stack, 400, restart_pg)
    assert_nothing_lost_or_twice(result)
