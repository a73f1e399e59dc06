"""Chaos: a worker killed with SIGKILL mid-run, a worker stopped with SIGTERM, triple delivery."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.chaos.scenario import assert_nothing_lost_or_twice, run_scenario
from tests.chaos.stack import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.rasa]


async def test_worker_killed_mid_run(make_stack, db_url, db_kind, rasa_url):
    """kill -9 one of two workers during a 1,000-message run; it is NOT restarted."""
    stack = await make_stack(db_url, rasa_url, workers=2)

    async def kill_one(s: Stack) -> None:
        s.workers[0].send_signal(signal.SIGKILL)
        await asyncio.to_thread(s.workers[0].wait, 10)

    result = await run_scenario("worker-kill-9", db_kind, stack, 1000, kill_one, at_fraction=0.4)
    assert stack.workers[0].returncode == -signal.SIGKILL
    assert_nothing_lost_or_twice(result)


async def test_worker_stopped_with_sigterm_drains(make_stack, db_url, db_kind, rasa_url):
    """SIGTERM one of two workers mid-run: it finishes what it holds, nothing is sent twice."""
    stack = await make_stack(db_url, rasa_url, workers=2)

    async def terminate_one(s: Stack) -> None:
        s.workers[0].send_signal(signal.SIGTERM)
        await asyncio.to_thread(s.workers[0].wait, 90)

    result = await run_scenario("worker-sigterm", db_kind, stack, 400, terminate_one)
    assert stack.workers[0].returncode == 0
    log = stack.log_path("worker-0").read_text(encoding="utf-8")
    assert "stopped" in log and "cut after" not in log, log[-2000:]
    assert result.resent == 0, result.line()  # a graceful stop never leaves a send half done
    assert_nothing_lost_or_twice(result)


async def test_every_message_delivered_three_times(make_stack, db_url, db_kind, rasa_url):
    """The platform posts each message twice at once, and a third time after the run."""
    stack = await make_stack(db_url, rasa_url, workers=2)

    async def nothing_more(s: Stack) -> None:
        return None

    result = await run_scenario(
        "delivered-3x", db_kind, stack, 400, nothing_more, copies=2, redeliver_later=True
    )
    # every copy was acknowledged with 200
    assert stack.platform.rejected == 0, stack.platform.rejections[:5]
    assert_nothing_lost_or_twice(result)
