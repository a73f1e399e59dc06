"""Identical texts in a burst ask Rasa once; the cached parse gives the same answer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.messages import Message
from tests.db_helpers import fetch
from tests.e2e.test_faults import start_proxy
from tests.support import say

pytestmark = pytest.mark.rasa


@pytest.mark.parametrize("seconds, parses", [(300, 1), (0, 3)])
async def test_a_burst_of_the_same_report_is_parsed_once(
    make_client, rasa_url, receiver, db_url, seconds, parses
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
        stored = await fetch(
            db_url, select(Message.nlu).where(Message.direction == "in").order_by(Message.id)
        )
        from_cache = [bool(json.loads(raw).get("cache")) for raw in stored]
        assert from_cache == ([False, True, True] if seconds else [False, False, False])
    finally:
        await server.close()
