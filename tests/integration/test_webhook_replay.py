"""Forged, stale and replayed WeChat and WeCom callbacks, through the real app and HTTP.

A platform's own retry (the same URL and body) must still be answered and stored once.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.engine import make_url

from storage.embedded_redis import EmbeddedRedis
from tests import fake_wechat as wechat
from tests import fake_wecom as wecom
from tests.conftest_platforms import messages
from tests.fake_api import xml_of
from tests.integration.test_webhook import _pg_admin

PATHS = {"wechat": "/webhooks/wechat", "wecom": "/webhooks/wecom"}
# (platform, WeChat mode): every way a callback can come in
MODES = [("wechat", False), ("wechat", True), ("wecom", True)]
MODE_IDS = ["wechat-plain", "wechat-safe", "wecom"]


def text_fields(platform: str, user: str, text: str, msg_id: str) -> dict[str, str | int]:
    """A text message to the platform's app."""
    kind = wechat if platform == "wechat" else wecom
    return kind.text_fields(user, text, msg_id)


def callback(
    platform: str, safe: bool, fields: dict[str, str | int], **signed: object
) -> tuple[dict[str, str], bytes]:
    """Query and body as the platform would send them (signed at/nonce when given)."""
    if platform == "wechat":
        return wechat.callback(fields, safe=safe, **signed)  # type: ignore[arg-type]
    return wecom.callback(fields, **signed)  # type: ignore[arg-type]


async def code_of(resp) -> str:
    """The error code of a refused request."""
    return (await resp.json())["error"]["code"]


async def test_with_an_aes_key_a_plain_callback_is_refused(platform_client, db_url):
    client = await platform_client(wechat_safe=True)
    fields = wechat.text_fields(wechat.OPENID, "我叫张三，电话 13812345678", "7001")
    for asked in ({}, {"encrypt_type": "raw"}, {"encrypt_type": ""}):
        query, body = wechat.callback(fields, safe=False)  # correctly signed, not encrypted
        resp = await client.post(PATHS["wechat"], params={**query, **asked}, data=body)
        assert resp.status == 401 and await code_of(resp) == "safe_mode_required", asked
    assert await messages(db_url, "wechat") == []
    query, body = wechat.callback(fields)  # the same message in safe mode
    assert (await client.post(PATHS["wechat"], params=query, data=body)).status == 200
    assert [m.platform_msg_id for m in await messages(db_url, "wechat")] == ["7001"]


@pytest.mark.parametrize(("platform", "safe"), MODES, ids=MODE_IDS)
async def test_a_used_timestamp_and_nonce_cannot_carry_another_body(
    platform_client, db_url, platform, safe
):
    client = await platform_client(wechat_safe=safe)
    genuine = text_fields(platform, "resident-1", "东关中巷的路灯坏了", "7101")
    query, body = callback(platform, safe, genuine)
    assert (await client.post(PATHS[platform], params=query, data=body)).status == 200
    forged = text_fields(platform, "resident-2", "查询 1001", "7102")
    if platform == "wechat" and not safe:  # the captured URL as it was: it never signed a body
        again, forged_body = query, xml_of(forged)
    else:  # a correct msg_signature over another ciphertext, reusing the nonce
        at, nonce = int(query["timestamp"]), query["nonce"]
        again, forged_body = callback(platform, safe, forged, at=at, nonce=nonce)
    resp = await client.post(PATHS[platform], params=again, data=forged_body)
    assert resp.status == 401 and await code_of(resp) == "replayed"
    assert [m.platform_msg_id for m in await messages(db_url, platform)] == ["7101"]


@pytest.mark.parametrize(("platform", "safe"), MODES, ids=MODE_IDS)
async def test_callbacks_signed_outside_five_minutes_are_refused(
    platform_client, db_url, platform, safe
):
    client = await platform_client(wechat_safe=safe)
    now = time.time()
    for n, at in enumerate((now - 305, now + 305, now - 3600 * 24 * 365)):
        fields = text_fields(platform, "resident-3", "路灯坏了", f"72{n}")
        query, body = callback(platform, safe, fields, at=at)
        resp = await client.post(PATHS[platform], params=query, data=body)
        assert resp.status == 401 and await code_of(resp) == "stale_timestamp", at - now
    assert await messages(db_url, platform) == []
    query, body = callback(platform, safe, text_fields(platform, "r", "路灯", "7299"), at=now - 250)
    assert (await client.post(PATHS[platform], params=query, data=body)).status == 200


async def test_url_checks_signed_outside_five_minutes_are_refused(platform_client):
    client = await platform_client()
    old = time.time() - 305
    stale = wechat.signed_query(at=old, echostr="5837397520665436492")
    assert (await client.get(PATHS["wechat"], params=stale)).status == 401
    assert (await client.get(PATHS["wecom"], params=wecom.url_check("1", at=old))).status == 401
    fresh = wecom.url_check("1288432023552776189", at=time.time() - 250)
    assert await (await client.get(PATHS["wecom"], params=fresh)).text() == "1288432023552776189"


@pytest.mark.parametrize(("platform", "safe"), MODES, ids=MODE_IDS)
async def test_a_platform_retry_of_the_same_callback_is_answered_and_stored_once(
    platform_client, db_url, platform, safe
):
    client = await platform_client(wechat_safe=safe)
    query, body = callback(platform, safe, text_fields(platform, "resident-4", "有人吗", "7301"))
    answers = []
    for _ in range(4):  # the first try and WeChat's three retries, all with the same URL
        resp = await client.post(PATHS[platform], params=query, data=body)
        answers.append((resp.status, await resp.text()))
    ack = "success" if platform == "wechat" else ""
    assert answers == [(200, ack)] * 4
    assert [m.platform_msg_id for m in await messages(db_url, platform)] == ["7301"]


POSTGRES_ONLY = [pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("db_kind", POSTGRES_ONLY, indirect=True)
@pytest.mark.parametrize(("platform", "safe"), MODES, ids=MODE_IDS)
async def test_a_retry_after_a_database_outage_is_not_lost(platform_client, db_url, platform, safe):
    """The first try's nonce is remembered, yet its retry (same URL and body) is stored."""
    client = await platform_client(wechat_safe=safe)
    query, body = callback(platform, safe, text_fields(platform, "resident-5", "漏水了", "7401"))
    name = make_url(db_url).database
    await _pg_admin(db_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    try:
        await _pg_admin(
            db_url,
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        resp = await client.post(PATHS[platform], params=query, data=body)
        assert resp.status == 503, await resp.text()
    finally:
        await _pg_admin(db_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    resp = await client.post(PATHS[platform], params=query, data=body)
    assert resp.status == 200, await resp.text()
    assert [m.platform_msg_id for m in await messages(db_url, platform)] == ["7401"]


@pytest.mark.parametrize("platform", ["wechat", "wecom"])
async def test_callbacks_are_stored_while_redis_is_down(
    platform_client, db_url, tmp_path, platform
):
    """Without Redis the nonce memory is skipped (logged); the timestamp window still holds."""
    own = EmbeddedRedis(tmp_path / "own-redis", appendonly=False)
    await asyncio.to_thread(own.start)
    try:
        client = await platform_client(extra_env={"LINLI_REDIS_URL": own.url})
        await asyncio.to_thread(own.stop)
        query, body = callback(
            platform, True, text_fields(platform, "resident-6", "停电了", "7501")
        )
        assert (await client.post(PATHS[platform], params=query, data=body)).status == 200
        stale, body = callback(platform, True, text_fields(platform, "r", "x", "7502"), at=1)
        assert (await client.post(PATHS[platform], params=stale, data=body)).status == 401
        assert [m.platform_msg_id for m in await messages(db_url, platform)] == ["7501"]
    finally:
        await asyncio.to_thread(own.stop)
