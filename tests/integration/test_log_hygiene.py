"""What reaches the logs: no resident's words from storage errors, no forged log lines."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.messaging import ingest
from storage.db import create_engine
from tests import fake_wechat as wechat
from tests.conftest_platforms import messages
from tests.integration.test_webhook import DEAD_NLU, _pg_admin, count_messages
from tests.support import message_body, post_signed

PHONE = "13812345678"
FORGED = "\n2026-01-01 00:00:00 CRITICAL bot.console: admin password changed"
POSTGRES_ONLY = [pytest.param("postgres", marks=pytest.mark.postgres)]


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured log line's message (with its traceback, if any), as written."""
    formatter = logging.Formatter("%(message)s")
    return [formatter.format(record) for record in caplog.records]


@pytest.mark.parametrize("db_kind", POSTGRES_ONLY, indirect=True)
async def test_a_storage_error_logs_no_resident_words(make_client, db_url, caplog):
    """The statement times out behind a lock: 503, and the warning leaves the text out."""
    name = make_url(db_url).database
    await _pg_admin(db_url, f"ALTER DATABASE {name} SET statement_timeout = '300ms'")
    client = await make_client(DEAD_NLU)
    locker = create_engine(db_url)
    caplog.set_level(logging.WARNING)
    try:
        async with locker.connect() as conn, conn.begin():
            await conn.execute(text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
            body = message_body("u-log", f"我家楼道灯坏了，电话 {PHONE}")
            resp = await post_signed(client, body)
            assert resp.status == 503, await resp.text()
    finally:
        await locker.dispose()
        await _pg_admin(db_url, f"ALTER DATABASE {name} RESET statement_timeout")
    lines = logged(caplog)
    assert any("storage unavailable on POST '/webhooks/generic'" in line for line in lines), lines
    # The warning names the statement only when the driver failed inside one (not, say, at
    # commit); wherever it does, its parameters are hidden.
    shown = [line for line in lines if "[SQL:" in line]
    assert all("parameters hidden" in line for line in shown), shown
    assert not [line for line in lines if PHONE in line or "楼道灯" in line]
    assert (await post_signed(client, body)).status == 200  # the redelivery lands
    assert await count_messages(db_url) == 1


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///{tmp}/x.db", "postgresql+asyncpg://u@h/x"])
async def test_every_engine_hides_bound_parameters(url, tmp_path):
    engine = create_engine(url.format(tmp=tmp_path))
    try:
        assert engine.sync_engine.hide_parameters
    finally:
        await engine.dispose()


async def test_a_message_id_with_a_newline_cannot_forge_a_log_line(make_client, caplog):
    client = await make_client(DEAD_NLU)
    caplog.set_level(logging.INFO, ingest.log.name)
    body = message_body("u-forge", "路灯坏了", message_id="m-1" + FORGED)
    for _ in range(2):  # the second is a redelivery, logged with its id
        assert (await post_signed(client, body)).status == 200
    [line] = [line for line in logged(caplog) if "redelivery" in line]
    assert "\n" not in line and "CRITICAL" in line  # escaped, on one line


async def test_an_openid_with_a_newline_cannot_forge_a_log_line(platform_client, db_url, caplog):
    client = await platform_client()
    caplog.set_level(logging.INFO, "bot.connectors")
    fields = {
        "ToUserName": "gh_1",
        "FromUserName": "o-1" + FORGED,
        "CreateTime": 1700000000,
        "MsgType": "event",
        "Event": "unsubscribe",
    }
    query, body = wechat.callback(fields)
    resp = await client.post("/webhooks/wechat", params=query, data=body)
    assert resp.status == 200 and await resp.text() == "success"
    [line] = [line for line in logged(caplog) if "acknowledged" in line]
    assert "\n" not in line and "CRITICAL" in line
    assert await messages(db_url, "wechat") == []
