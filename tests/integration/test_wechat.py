"""The WeChat Official Account connector through the real app and HTTP, against a fake API."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import ConfigError, load_settings
from bot.connectors.tencent.crypto import WXBizMsgCrypt, signature
from storage.messages import FAILED, SENT
from tests import fake_wechat as wechat
from tests.conftest_platforms import messages, queue_replies, settled
from tests.fake_api import xml_of
from tests.support import write_config
from tests.unit.test_wxcrypto import BILLION_LAUGHS, EXTERNAL_ENTITY

PATH = "/webhooks/wechat"


async def post(client, inner, safe=True):
    query, body = wechat.callback(inner, safe=safe)
    return await client.post(PATH, params=query, data=body)


async def test_server_check_echoes_echostr(platform_client):
    client = await platform_client()
    resp = await client.get(PATH, params=wechat.signed_query(echostr="5837397520665436492"))
    assert resp.status == 200 and await resp.text() == "5837397520665436492"
    bad = {**wechat.signed_query(echostr="1"), "signature": "0" * 40}
    assert (await client.get(PATH, params=bad)).status == 401


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_text_is_stored_and_answered_success(platform_client, db_url, safe):
    client = await platform_client(wechat_safe=safe)
    resp = await post(client, wechat.text_fields(wechat.OPENID, "我想预约康复", "555"), safe=safe)
    assert resp.status == 200 and await resp.text() == "success"
    [stored] = await messages(db_url, "wechat")
    assert (stored.text, stored.platform_msg_id) == ("我想预约康复", "555")


def _fields(msg_type: str, **extra: str | int) -> dict[str, str | int]:
    return {"ToUserName": "gh_1", "FromUserName": wechat.OPENID, "CreateTime": int(time.time()),
            "MsgType": msg_type, **extra}  # fmt: skip


KINDS = [
    ("voice", {"MediaId": "m", "Format": "amr", "Recognition": "路灯坏了", "MsgId": "1"}, "路灯坏了"),
    ("location", {"Location_X": "34.2", "Location_Y": "108.9", "Scale": 20, "Label": "东关南街", "MsgId": "2"}, "东关南街"),
    ("event", {"Event": "subscribe", "EventKey": ""}, "你好"),
    ("event", {"Event": "CLICK", "EventKey": "查询进度"}, "查询进度"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "extra", "text"), KINDS)
async def test_message_types_become_text(platform_client, db_url, kind, extra, text):
    client = await platform_client()
    assert (await post(client, _fields(kind, **extra))).status == 200
    [stored] = await messages(db_url, "wechat")
    assert stored.text == text


async def test_unsubscribe_is_acknowledged_not_stored(platform_client, db_url):
    client = await platform_client()
    resp = await post(client, _fields("event", Event="unsubscribe", EventKey=""))
    assert resp.status == 200 and await resp.text() == "success"
    assert await messages(db_url, "wechat") == []


async def test_five_redeliveries_store_one_message(platform_client, db_url):
    client = await platform_client()
    fields = wechat.text_fields(wechat.OPENID, "有人吗", "888")
    for _ in range(5):  # a new timestamp, nonce and ciphertext each time
        assert (await post(client, fields)).status == 200
    assert [m.platform_msg_id for m in await messages(db_url, "wechat")] == ["888"]


def _bad_requests(plain_fields: bytes) -> list[tuple[str, dict[str, str], bytes, int]]:
    q, body = wechat.callback(plain_fields)
    other = WXBizMsgCrypt(wechat.TOKEN, wechat.AES_KEY, "wx-another-app").encrypt(plain_fields)
    wrong_id = {**q, "msg_signature": signature(wechat.TOKEN, q["timestamp"], q["nonce"], other)}
    return [
        ("no signature", {k: v for k, v in q.items() if k != "signature"}, body, 401),
        ("tampered signature", {**q, "signature": "1" * 40}, body, 401),
        ("tampered msg_signature", {**q, "msg_signature": "2" * 40}, body, 401),
        ("wrong receive id", wrong_id, xml_of({"ToUserName": "gh", "Encrypt": other}), 400),
        ("billion laughs (safe)", q, BILLION_LAUGHS, 400),
        ("inner billion laughs", *wechat.callback(BILLION_LAUGHS), 400),
        ("bad CreateTime", *wechat.callback({"FromUserName": "o", "CreateTime": "x", "MsgType": "text"}), 400),
    ]  # fmt: skip


def _bad_plain_requests() -> list[tuple[str, dict[str, str], bytes, int]]:
    q, body = wechat.callback(wechat.text_fields("o", "hi"), safe=False)
    return [
        ("no signature", {k: v for k, v in q.items() if k != "signature"}, body, 401),
        ("external entity", *wechat.callback(EXTERNAL_ENTITY, safe=False), 400),
        ("not xml", wechat.signed_query(), b"{}", 400),
    ]


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_bad_callbacks_are_refused_cleanly(platform_client, db_url, safe):
    client = await platform_client(wechat_safe=safe)
    bad = _bad_requests(xml_of(wechat.text_fields("o", "hi"))) if safe else _bad_plain_requests()
    for name, query, body, status in bad:
        resp = await client.post(PATH, params=query, data=body)
        assert resp.status == status, (name, await resp.text())
    assert await messages(db_url, "wechat") == []


async def test_safe_mode_without_a_key_is_400(platform_client, db_url):
    client = await platform_client(wechat_safe=False)
    assert (await post(client, wechat.text_fields("o", "hi"), safe=True)).status == 400
    assert await messages(db_url, "wechat") == []


async def test_reply_goes_through_custom_send(platform_client, fake_wechat_api):
    fake, _ = fake_wechat_api
    client = await platform_client()
    await queue_replies(client, "wechat", wechat.OPENID, ["已为您登记"])
    [sent] = await fake.wait_for(1)
    assert sent.body == {
        "touser": wechat.OPENID,
        "msgtype": "text",
        "text": {"content": "已为您登记"},
    }


async def test_token_expiry_mid_burst_refreshes_once(platform_client, fake_wechat_api, db_url):
    fake, _ = fake_wechat_api
    client = await platform_client()
    await queue_replies(client, "wechat", "o-first", ["one"])
    await fake.wait_for(1)
    fake.expire_tokens()
    for i in range(15):
        await queue_replies(client, "wechat", f"o-{i}", [f"reply {i}"])
    await fake.wait_for(16)
    assert fake.token_calls == 2
    assert all(m.status == SENT for m in await settled(db_url, "wechat"))


async def test_quota_limited_send_is_retried_later(platform_client, fake_wechat_api, db_url):
    fake, _ = fake_wechat_api
    client = await platform_client(overrides={"pacing": {"rate_limited_retry_seconds": 0.3}})
    fake.errcode_next = [45009]
    await queue_replies(client, "wechat", "o-q", ["稍后"])
    await fake.wait_for(1)
    [out] = await settled(db_url, "wechat")
    assert (out.status, out.attempts) == (SENT, 1)


async def test_outside_the_48_hour_window_is_not_retried(platform_client, fake_wechat_api, db_url):
    fake, _ = fake_wechat_api
    client = await platform_client()
    fake.errcode_next = [45015]
    await queue_replies(client, "wechat", "o-late", ["太晚了"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [out] = await messages(db_url, "wechat", "out")
        if out.status == FAILED:
            break
        await asyncio.sleep(0.1)
    assert (out.status, out.attempts) == (FAILED, 1) and fake.sends == []


def test_half_configured_connectors_are_config_errors(tmp_path):
    base = {"LINLI_CONFIG": str(write_config(tmp_path))}
    with pytest.raises(ConfigError) as err:
        load_settings({**base, "LINLI_WECOM_CORP_ID": "ww1", "LINLI_WECOM_TOKEN": "t",
                       "LINLI_WECHAT_AES_KEY": wechat.AES_KEY})  # fmt: skip
    message = str(err.value)
    for name in ("LINLI_WECOM_AGENT_ID", "LINLI_WECOM_SECRET", "LINLI_WECOM_AES_KEY",
                 "LINLI_WECHAT_APP_ID", "LINLI_WECHAT_SECRET", "LINLI_WECHAT_TOKEN"):  # fmt: skip
        assert name in message
    assert "LINLI_WECOM_CORP_ID" not in message.split("set ")[1].split(" (")[0]
    allowed = {"LINLI_CONFIG": str(write_config(tmp_path, {"wechat": {"allow_plain_mode": True}}))}
    plain = load_settings({**allowed, **wechat.env("http://127.0.0.1:1", safe=False)})
    assert plain.wechat_aes_key is None and plain.wecom_api_base == "https://qyapi.weixin.qq.com"


def test_plain_mode_runs_only_when_config_allows_it(tmp_path):
    plain = wechat.env("http://127.0.0.1:1", safe=False)
    with pytest.raises(ConfigError, match=r"LINLI_WECHAT_AES_KEY.*wechat\.allow_plain_mode"):
        load_settings({"LINLI_CONFIG": str(write_config(tmp_path)), **plain})
    off = write_config(tmp_path, {"connectors": {"wechat": False}})  # not running: no problem
    assert load_settings({"LINLI_CONFIG": str(off), **plain}).wechat_app_id == wechat.APP_ID


async def test_connectors_switched_off_in_config_have_no_routes(platform_client):
    client = await platform_client(overrides={"connectors": {"wecom": False, "wechat": False}})
    assert (await client.get("/webhooks/wecom")).status == 404
    assert (await client.get(PATH)).status == 404
