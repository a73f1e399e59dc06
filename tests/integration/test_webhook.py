"""The generic webhook through real HTTP: store before 200, clear 4xx for bad requests."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from storage.db import create_engine, session_factory
from storage.messages import Message
from tests.support import SECRET, message_body, post_signed

DEAD_NLU = "http://127.0.0.1:9"  # nothing listens: messages are stored and wait


async def count_messages(db_url: str) -> int:
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        total = await session.scalar(select(func.count()).select_from(Message))
    await engine.dispose()
    return int(total or 0)


async def test_accepted_message_is_stored_before_200(make_client, db_url):
    client = await make_client(DEAD_NLU)
    resp = await post_signed(client, message_body("u1", "东关中巷的路灯坏了"))
    assert resp.status == 200
    assert await resp.json() == {"ok": True}
    assert await count_messages(db_url) == 1


async def test_redelivered_message_is_stored_once(make_client, db_url):
    client = await make_client(DEAD_NLU)
    body = message_body("u1", "路灯坏了", "same-id")
    for _ in range(3):
        assert (await post_signed(client, body)).status == 200
    assert await count_messages(db_url) == 1


async def test_bad_signature_is_401(make_client, db_url):
    client = await make_client(DEAD_NLU)
    resp = await post_signed(client, message_body("u1", "hi"), **{"X-Linli-Signature": "sha256=00"})
    assert resp.status == 401
    body = await resp.json()
    assert body["error"]["code"] == "bad_signature"
    assert "signature" in body["error"]["message"]
    assert await count_messages(db_url) == 0


async def test_missing_signature_is_401(make_client):
    client = await make_client(DEAD_NLU)
    resp = await client.post("/webhooks/generic", data=message_body("u1", "hi"))
    assert resp.status == 401
    assert "missing" in (await resp.json())["error"]["message"]


async def test_stale_timestamp_is_401(make_client):
    client = await make_client(DEAD_NLU)
    from bot.connectors.signing import signed_headers

    body = message_body("u1", "hi")
    headers = signed_headers(SECRET, body, now=time.time() - 301)
    resp = await client.post("/webhooks/generic", data=body, headers=headers)
    assert resp.status == 401
    assert "timestamp" in (await resp.json())["error"]["message"]
    for odd in ("²", "9" * 40):  # a digit to str.isdigit but not to int(); absurdly long
        headers["X-Linli-Timestamp"] = odd
        resp = await client.post("/webhooks/generic", data=body, headers=headers)
        assert resp.status == 401, odd


async def test_malformed_json_is_400(make_client, db_url):
    client = await make_client(DEAD_NLU)
    resp = await post_signed(client, b'{"message_id": "1", "text": ')
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == "body is not valid JSON"
    assert await count_messages(db_url) == 0


async def test_missing_fields_are_named(make_client):
    client = await make_client(DEAD_NLU)
    body = json.dumps({"message_id": "1", "text": "hi"}).encode()
    resp = await post_signed(client, body)
    assert resp.status == 400
    message = (await resp.json())["error"]["message"]
    assert "user_id" in message and "chat_id" in message and "timestamp" in message


async def test_wrong_types_are_400(make_client):
    client = await make_client(DEAD_NLU)
    for bad in ({"text": 5}, {"user_id": ""}, {"timestamp": "yesterday"}, {"is_group": "yes"}):
        payload = json.loads(message_body("u1", "hi"))
        payload.update(bad)
        resp = await post_signed(client, json.dumps(payload).encode())
        assert resp.status == 400, bad
    resp = await post_signed(client, b"[1, 2]")
    assert resp.status == 400


async def test_oversized_body_is_413(make_client, db_url):
    client = await make_client(DEAD_NLU)
    body = message_body("u1", "路" * 40_000)  # 120 kB of UTF-8, limit is 64 kB
    resp = await post_signed(client, body)
    assert resp.status == 413
    assert "error" in await resp.json()
    assert await count_messages(db_url) == 0


async def test_control_characters_and_surrogates_are_stored_cleanly(make_client, db_url):
    client = await make_client(DEAD_NLU)
    body = json.dumps(
        {
            "message_id": "c1",
            "user_id": "u1",
            "chat_id": "u1",
            "text": "路灯\x00坏了\x07\ud800",
            "timestamp": int(time.time()),
        }
    ).encode()
    resp = await post_signed(client, body)
    assert resp.status == 200
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(Message.text))
    await engine.dispose()
    assert stored == "路灯 坏了 \ufffd"


async def test_health_and_readiness(make_client):
    client = await make_client(DEAD_NLU)
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 503
    checks = (await resp.json())["checks"]
    assert checks == {"database": True, "redis": True, "nlu": False}


async def test_readiness_probes_once_however_many_ask(make_client):
    statuses = 0

    async def status(request: web.Request) -> web.Response:
        nonlocal statuses
        statuses += 1
        await asyncio.sleep(0.2)  # a slow Rasa: callers meanwhile share the probe under way
        return web.json_response({"model_file": "model.tar.gz"})

    app = web.Application()
    app.router.add_get("/status", status)
    nlu = TestServer(app)
    await nlu.start_server()
    try:
        client = await make_client(str(nlu.make_url("")).rstrip("/"))
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(20)))
        assert [a.status for a in answers] == [200] * 20
        assert statuses == 1  # not one probe of everything per call
        await asyncio.sleep(1.1)  # http.readiness_cache_seconds later: probed afresh
        assert (await client.get("/readyz")).status == 200 and statuses == 2
    finally:
        await nlu.close()


async def test_unknown_route_has_the_common_error_shape(make_client):
    client = await make_client(DEAD_NLU)
    resp = await client.get("/nope")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


async def _pg_admin(db_url: str, statement: str) -> None:
    """Run one statement as the server's admin, outside the database under test."""
    admin = make_url(db_url).set(database="postgres").render_as_string(hide_password=False)
    engine = create_engine(admin)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.mark.parametrize("db_kind", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
async def test_a_database_that_cannot_be_reached_is_503_not_500(make_client, db_url):
    """Nothing is acknowledged when nothing could be stored: 503, and the redelivery lands."""
    client = await make_client(DEAD_NLU)
    name = make_url(db_url).database
    await _pg_admin(db_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    try:
        await _pg_admin(
            db_url,
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        body = message_body("u-down", "楼道灯不亮了", message_id="down-1")
        resp = await post_signed(client, body)
        assert resp.status == 503, await resp.text()
        assert resp.headers["Retry-After"]
        assert (await resp.json())["error"]["code"] == "storage_unavailable"
    finally:
        await _pg_admin(db_url, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    resp = await post_signed(client, body)
    assert resp.status == 200, await resp.text()
    assert await count_messages(db_url) == 1
