"""A platform down for "a minute": everything is delivered afterwards, once, in order per user.

Timings are scaled down so the suite stays fast: the outage lasts OUTAGE seconds instead of
60, and the backoff steps are [0.2, 0.5, 1] seconds instead of [1, 5, 30, 120, 600] (the
shape is the same: the outage outlasts several retries of every message). Run with -s to
see the delivery figures.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from storage.messages import FAILED, SENT
from tests.conftest_platforms import messages, queue_replies, settled

OUTAGE = 3.0
USERS = 5
PER_USER = 8
FAULTY = {
    "delivery": {"backoff_seconds": [0.2, 0.5, 1.0], "max_attempts": 30, "poll_seconds": 0.1},
}


@pytest.mark.parametrize("platform", ["wecom", "wechat"])
async def test_everything_is_delivered_once_in_order_after_an_outage(
    platform_client, fake_wecom_api, fake_wechat_api, db_url, platform
):
    fake = fake_wecom_api[0] if platform == "wecom" else fake_wechat_api[0]
    client = await platform_client(overrides=FAULTY)
    users = [f"{platform}-user-{n}" for n in range(USERS)]
    fake.down = True
    for i in range(PER_USER):  # replies and pushes keep coming during the outage
        for user in users:
            await queue_replies(client, platform, user, [f"{user} 第{i}条"])
        await asyncio.sleep(OUTAGE / PER_USER)
    assert fake.sends == [] and fake.http_failures >= USERS
    fake.down = False
    await fake.wait_for(USERS * PER_USER, within=60)
    outs = await settled(db_url, platform)

    texts = [s.body["text"]["content"] for s in fake.sends]
    duplicated = sum(n - 1 for n in Counter(texts).values())
    for user in users:
        got = fake.to(user)
        assert got == [f"{user} 第{i}条" for i in range(PER_USER)], user  # once, in order
    assert duplicated == 0 and len(texts) == USERS * PER_USER
    assert all(m.status == SENT for m in outs)
    dead = [m for m in await messages(db_url, platform, "out") if m.status == FAILED]
    assert dead == []
    retried = sum(m.attempts - 1 for m in outs)
    print(
        f"\n{platform} outage of {OUTAGE} s: sent {len(texts)}, failed attempts "
        f"{fake.http_failures}, retried {retried} (messages retried "
        f"{sum(m.attempts > 1 for m in outs)}), dead-lettered {len(dead)}, "
        f"duplicated {duplicated}"
    )
