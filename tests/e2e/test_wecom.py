"""The WeCom connector through the real app and HTTP, against a fake WeCom API."""

from __future__ import annotations

import base64
import time

import pytest

from bot.connectors.tencent.crypto import signature
from storage.messages import SENT
from tests import fake_wecom as wecom
from tests.conftest_platforms import messages, queue_replies, settled
from tests.fake_api import xml_of
from tests.unit.test_wxcrypto import BILLION_LAUGHS, EXTERNAL_ENTITY

PATH = "/webhooks/wecom"


async def post(client, inner):
    query, body = wecom.callback(inner)
    return await client.post(PATH, params=query, data=body)


async def test_url_check_echoes_the_plaintext(platform_client):
    client = await platform_client()
    resp = await client.get(PATH, params=wecom.url_check("1288432023552776189"))
    assert resp.status == 200
    assert await resp.text() == "1288432023552776189"
    bad = {**wecom.url_check("x"), "msg_signature": "0" * 40}
    assert (await client.get(PATH, params=bad)).status == 401
    query = wecom.url_check("x")
    garbage = base64.b64encode(b"not a ciphertext").decode()
    query["echostr"] = garbage
    query["msg_signature"] = signature(wecom.TOKEN, query["timestamp"], query["nonce"], garbage)
    assert (await client.get(PATH, params=query)).status == 400


async def test_text_is_stored_and_answered_with_an_empty_200(platform_client, db_url):
    client = await platform_client()
    resp = await post(client, wecom.text_fields("zhangsan", "东关中巷的路灯坏了", "1234567"))
    assert resp.status == 200
    assert await resp.text() == ""
    [stored] = await messages(db_url, "wecom")
    assert (stored.text, stored.platform_msg_id) == ("东关中巷的路灯坏了", "1234567")


def _fields(user: str, msg_type: str, **extra: str | int) -> dict[str, str | int]:
    return {"ToUserName": wecom.CORP_ID, "FromUserName": user, "CreateTime": int(time.time()),
            "MsgType": msg_type, **extra, "AgentID": int(wecom.AGENT_ID)}  # fmt: skip


KINDS = [
    ("voice", {"MediaId": "m1", "Format": "amr", "Recognition": "我要预约康复", "MsgId": "11"}, "我要预约康复"),
    ("voice", {"MediaId": "m2", "Format": "amr", "MsgId": "12"}, "[语音]"),
    ("location", {"Location_X": "34.2", "Location_Y": "108.9", "Scale": 15, "Label": "东关中巷12号", "MsgId": "13"}, "东关中巷12号"),
    ("location", {"Location_X": "34.2", "Location_Y": "108.9", "Scale": 15, "MsgId": "14"}, "纬度 34.2 经度 108.9"),
    ("image", {"PicUrl": "http://p/1.jpg", "MediaId": "m3", "MsgId": "15"}, "[图片]"),
    ("event", {"Event": "enter_agent", "EventKey": ""}, "你好"),
    ("event", {"Event": "click", "EventKey": "我要报修"}, "我要报修"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "extra", "text"), KINDS)
async def test_message_types_become_text(platform_client, db_url, kind, extra, text):
    client = await platform_client()
    resp = await post(client, _fields("lisi", kind, **extra))
    assert resp.status == 200
    [stored] = await messages(db_url, "wecom")
    assert stored.text == text


async def test_callbacks_without_an_answer_are_acknowledged_not_stored(platform_client, db_url):
    client = await platform_client()
    for extra in ({"Event": "view", "EventKey": "http://x"}, {"Event": "unsubscribe"}):
        assert (await post(client, _fields("lisi", "event", **extra))).status == 200
    assert (await post(client, _fields("lisi", "file", MsgId="9"))).status == 200
    assert await messages(db_url, "wecom") == []


async def test_five_redeliveries_store_one_message(platform_client, db_url):
    client = await platform_client()
    fields = wecom.text_fields("wangwu", "路灯坏了", "777")
    event = _fields("wangwu", "event", Event="enter_agent")
    for _ in range(5):
        assert (await post(client, fields)).status == 200  # fresh nonce and ciphertext each time
        assert (await post(client, event)).status == 200
    stored = await messages(db_url, "wecom")
    assert [m.platform_msg_id for m in stored] == [
        "777",
        f"wangwu:{event['CreateTime']}:enter_agent",
    ]


def _envelope_with(encrypted: str) -> tuple[dict[str, str], bytes]:
    timestamp, nonce = str(int(time.time())), "n1"
    query = {"msg_signature": signature(wecom.TOKEN, timestamp, nonce, encrypted),
             "timestamp": timestamp, "nonce": nonce}  # fmt: skip
    return query, xml_of({"ToUserName": wecom.CORP_ID, "Encrypt": encrypted})


def _bad_requests() -> list[tuple[str, dict[str, str], bytes, int]]:
    good_query, good_body = wecom.callback(wecom.text_fields("u", "hi"))
    c = wecom.crypt()
    raw = base64.b64decode(c.encrypt(xml_of(wecom.text_fields("u", "hi"))))
    from bot.connectors.tencent.crypto import WXBizMsgCrypt

    other = WXBizMsgCrypt(wecom.TOKEN, wecom.AES_KEY, "ww-another-corp")
    cases = [
        ("tampered signature", {**good_query, "msg_signature": "f" * 40}, good_body, 401),
        ("no signature", {}, good_body, 401),
        ("wrong receive id", *_envelope_with(other.encrypt(b"<xml/>")), 400),
        ("truncated ciphertext", *_envelope_with(base64.b64encode(raw[:-16]).decode()), 400),
        ("bad padding", *_envelope_with(base64.b64encode(raw[:-32] + raw[:16]).decode()), 400),
        ("billion laughs", good_query, BILLION_LAUGHS, 400),
        ("external entity", *wecom.callback(EXTERNAL_ENTITY), 400),
        ("inner billion laughs", *wecom.callback(BILLION_LAUGHS), 400),
        ("not xml", good_query, b"hello", 400),
        ("no sender", *wecom.callback({"MsgType": "text", "CreateTime": 1, "Content": "x"}), 400),
    ]
    return cases


async def test_bad_callbacks_are_refused_cleanly(platform_client, db_url):
    client = await platform_client()
    for name, query, body, status in _bad_requests():
        resp = await client.post(PATH, params=query, data=body)
        assert resp.status == status, (name, await resp.text())
        assert "error" in await resp.json(), name
    assert await messages(db_url, "wecom") == []


async def test_reply_is_sent_through_message_send(platform_client, fake_wecom_api, db_url):
    fake, _ = fake_wecom_api
    client = await platform_client()
    await queue_replies(client, "wecom", "zhaoliu", ["您好，已收到"])
    [sent] = await fake.wait_for(1)
    assert sent.body == {"touser": "zhaoliu", "msgtype": "text", "agentid": 1000002,
                         "text": {"content": "您好，已收到"}}  # fmt: skip
    assert fake.token_calls == 1


async def test_token_expiry_mid_burst_refreshes_once(platform_client, fake_wecom_api, db_url):
    fake, _ = fake_wecom_api
    client = await platform_client()
    await queue_replies(client, "wecom", "first", ["one"])
    await fake.wait_for(1)
    fake.expire_tokens()
    for i in range(20):
        await queue_replies(client, "wecom", f"member{i}", [f"reply {i}"])
    await fake.wait_for(21)
    assert fake.token_calls == 2
    assert sorted(fake.texts()) == sorted(["one", *(f"reply {i}" for i in range(20))])
    assert all(m.status == SENT for m in await settled(db_url, "wecom"))


async def test_rate_limited_send_is_retried_later(platform_client, fake_wecom_api, db_url):
    fake, _ = fake_wecom_api
    client = await platform_client(
        overrides={"pacing": {"rate_limited_retry_seconds": 0.3}, "delivery": {"max_attempts": 1}}
    )
    fake.errcode_next = [45009, 45009]  # with one attempt allowed: waiting is not failing
    started = time.monotonic()
    await queue_replies(client, "wecom", "sunqi", ["稍后送达"])
    await fake.wait_for(1)
    assert time.monotonic() - started >= 0.6
    assert len(fake.refused) == 2 and fake.to("sunqi") == ["稍后送达"]
    [out] = await settled(db_url, "wecom")
    assert (out.status, out.attempts) == (SENT, 1)  # waiting is not a failed attempt


async def test_server_errors_are_retried(platform_client, fake_wecom_api, db_url):
    fake, _ = fake_wecom_api
    client = await platform_client()
    fake.http_fail_next = 2
    await queue_replies(client, "wecom", "zhou", ["终于到了"])
    await fake.wait_for(1)
    [out] = await settled(db_url, "wecom")
    assert (out.status, out.attempts) == (SENT, 3)


async def test_hundred_sends_to_one_member_are_paced_none_dropped(
    platform_client, fake_wecom_api, db_url
):
    fake, _ = fake_wecom_api
    windows = [[10, 0.5], [30, 2.0]]
    client = await platform_client(overrides={"pacing": {"wecom_member": windows}})
    texts_a = [f"a{i}" for i in range(50)]
    texts_b = [f"b{i}" for i in range(50)]
    started = time.monotonic()
    await queue_replies(client, "wecom", "busy", texts_a)  # direct chat
    await queue_replies(client, "wecom", "busy", texts_b, chat_id="group-7")  # same member
    sends = await fake.wait_for(100, within=60)
    assert time.monotonic() - started >= 6  # 100 sends at 30 per 2 s need 3 full windows
    got = fake.to("busy")
    assert len(got) == 100
    assert [t for t in got if t.startswith("a")] == texts_a  # each conversation in order
    assert [t for t in got if t.startswith("b")] == texts_b
    times = sorted(s.at for s in sends)
    for limit, span in windows:  # never more in a window than allowed (slack for HTTP jitter)
        assert max(sum(1 for t in times if s <= t < s + span * 0.7) for s in times) <= limit
    outs = await settled(db_url, "wecom")
    assert {(m.status, m.attempts) for m in outs} == {(SENT, 1)}


@pytest.mark.rasa
async def test_end_to_end_message_to_reply(platform_client, fake_wecom_api, rasa_url, db_url):
    fake, _ = fake_wecom_api
    client = await platform_client(rasa_url)
    resp = await post(client, wecom.text_fields("e2e-member", "东关中巷的路灯坏了"))
    assert resp.status == 200
    [sent, *_] = await fake.wait_for(1, within=60)
    assert sent.body["touser"] == "e2e-member" and sent.body["text"]["content"]
