"""Drive one chaos scenario: send the scripts, inject the fault mid-run, settle, count, assert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tests.chaos.counts import Counts, count, settle
from tests.chaos.stack import Stack, deliver, send_scripts
from tests.chaos.texts import resident_scripts

Fault = Callable[[Stack], Awaitable[None]]


async def until_replied(stack: Stack, how_many: int, within: float = 300.0) -> None:
    """Wait until that many sent messages have a reply (the run is well under way)."""
    deadline = time.monotonic() + within
    while len(stack.platform.replied_ids()) < how_many:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"only {len(stack.platform.replied_ids())} of {how_many} replies before the fault"
            )
        await asyncio.sleep(0.1)


async def run_scenario(
    name: str,
    database: str,
    stack: Stack,
    messages: int,
    fault: Fault,
    *,
    at_fraction: float = 0.3,
    copies: int = 1,
    redeliver_later: bool = False,
    per_user: int = 8,
    seed: int = 7,
) -> Counts:
    """Send `messages` texts over many residents, fault at a fraction of replies, then count."""
    assert messages % per_user == 0, "a whole number of residents' scripts"
    scripts = resident_scripts(messages // per_user, per_user, seed)
    started = time.monotonic()
    sending = asyncio.create_task(send_scripts(stack.base, stack.platform, scripts, copies=copies))
    try:
        await until_replied(stack, int(messages * at_fraction))
        await fault(stack)
        order = await sending
    finally:
        if not sending.done():
            sending.cancel()
    await settle(stack.db_url, stack.platform)
    if redeliver_later:  # the platform posts every message once more, long after
        await redeliver(stack, order)
        await settle(stack.db_url, stack.platform)
    result = await count(name, database, stack.db_url, stack.platform, started)
    assert result.sent == messages
    return result


async def redeliver(stack: Stack, order: list[tuple[str, str, str]]) -> None:
    """Post every message of the run again, with its original id."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        gate = asyncio.Semaphore(24)

        async def again(user: str, text: str, mid: str) -> None:
            async with gate:
                await deliver(http, stack.base, stack.platform, user, text, mid)

        await asyncio.gather(*(again(*sent) for sent in order))


def assert_nothing_lost_or_twice(result: Counts) -> None:
    """The issue's bar: 0 lost and 0 duplicated."""
    assert result.lost == 0, result.line()
    assert result.duplicated == 0, result.line()
    assert result.dead_letters == 0, result.line()
