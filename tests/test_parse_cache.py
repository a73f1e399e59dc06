"""Identical texts in a burst ask Rasa once; the cached parse gives the same answer."""

from __future__ import annotations

import pytest

from tests.support import say
from tests.test_faults import start_proxy

pytestmark = pytest.mark.rasa


@pytest.mark.parametrize("seconds, parses", [(300, 1), (0, 3)])
async def test_a_burst_of_the_same_report_is_parsed_once(
    make_client, rasa_url, receiver, seconds, parses
):
    rec, _ = receiver
    proxy, server = await start_proxy(rasa_url)
    try:
        client = await make_client(
            str(server.make_url("")).rstrip("/"),
            overrides={"dialogue": {"parse_cache_seconds": seconds}},
        )
        for user in ("burst-1", "burst-2", "burst-3"):
            await say(client, user, "东关中巷的路灯又坏了")
            replies = await rec.wait_for(user, 1)
            assert "路灯" in replies[0] and "东关中巷" in replies[0], replies  # same understanding
        assert proxy.parses == parses
    finally:
        await server.close()
