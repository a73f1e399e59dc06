"""WeChat answers: the passive reply in the callback's response, and the 48-hour window."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import pytest

from bot.connectors.tencent.crypto import WXBizMsgCrypt, parse_xml
from bot.runtime import RUNTIME
from storage.base import utcnow
from storage.messages import FAILED, SENT
from tests import fake_wechat as wechat
from tests.conftest_platforms import messages, queue_replies, settled

PATH = "/webhooks/wechat"
PASSIVE = {"wechat": {"passive_reply_seconds": 4}}


async def post(client, inner, safe=True, **kwargs):
    query, body = wechat.callback(inner, safe=safe)
    return await client.post(PATH, params=query, data=body, **kwargs)


def passive_fields(body: bytes, safe: bool) -> dict[str, str]:
    """The reply XML's fields, decrypted (and its signature checked) in safe mode."""
    if safe:
        envelope = parse_xml(body)
        crypt = WXBizMsgCrypt(wechat.TOKEN, wechat.AES_KEY, wechat.APP_ID)
        body = crypt.decrypt_message(
            body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )
    return parse_xml(body)


def patient(client, seconds: float = 30.0):
    """Let the app's passive replies wait longer than WeChat would (4 s), so that a loaded
    test machine cannot turn a passive reply into an API send; returns the client."""
    client.app[RUNTIME].connectors["wechat"].passive.seconds = seconds
    return client


async def inbound_id(db_url: str, within: float = 10.0) -> int:
    """The id of the first stored WeChat message, once it is stored."""
    for _ in range(int(within / 0.05)):
        stored = await messages(db_url, "wechat")
        if stored:
            return stored[0].id
        await asyncio.sleep(0.05)
    raise AssertionError("the callback was not stored")


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_a_quick_answer_is_the_passive_reply(platform_client, fake_wechat_api, db_url, safe):
    fake, _ = fake_wechat_api
    web = patient(await platform_client(wechat_safe=safe, overrides=PASSIVE, worker_role=False))
    await platform_client(wechat_safe=safe, overrides=PASSIVE, web_role=False)  # the outbox
    fields = wechat.text_fields(wechat.OPENID, "路灯坏了", "9001")
    call = asyncio.create_task(post(web, fields, safe=safe))
    message_id = await inbound_id(db_url)  # answered as soon as it is stored (a handler would)
    await queue_replies(
        web, "wechat", wechat.OPENID, ["您要反映的是【路灯】"], reply_to_id=message_id
    )
    resp = await call
    assert resp.status == 200
    reply = passive_fields(await resp.read(), safe)
    [out] = await settled(db_url, "wechat")
    assert reply["ToUserName"] == wechat.OPENID and reply["FromUserName"] == "gh_1234567890ab"
    assert reply["MsgType"] == "text" and reply["Content"] == out.text == "您要反映的是【路灯】"
    assert (out.status, out.attempts) == (SENT, 1)
    assert fake.sends == [] and fake.refused == []  # never also sent through the API


async def test_further_replies_follow_through_the_api_in_order(
    platform_client, fake_wechat_api, db_url
):
    fake, _ = fake_wechat_api
    web = patient(await platform_client(overrides=PASSIVE, worker_role=False))
    await platform_client(overrides=PASSIVE, web_role=False)  # delivers; its NLU is down
    call = asyncio.create_task(post(web, wechat.text_fields(wechat.OPENID, "路灯坏了")))
    message_id = await inbound_id(db_url)
    texts = ["第一条", "第二条", "第三条"]
    await queue_replies(web, "wechat", wechat.OPENID, texts, reply_to_id=message_id)
    resp = await call
    assert passive_fields(await resp.read(), True)["Content"] == "第一条"
    await fake.wait_for(2)
    assert fake.to(wechat.OPENID) == ["第二条", "第三条"]
    outs = await settled(db_url, "wechat")
    assert [(m.text, m.status, m.attempts) for m in outs] == [(t, SENT, 1) for t in texts]


async def test_a_slow_answer_is_success_then_the_api(platform_client, fake_wechat_api, db_url):
    fake, _ = fake_wechat_api
    web = await platform_client(worker_role=False)  # nobody answers within 0.3 s
    resp = await post(web, wechat.text_fields(wechat.OPENID, "查询"))
    assert await resp.text() == "success"
    await platform_client(web_role=False)  # now a worker answers, through custom/send
    [sent] = await fake.wait_for(1)
    [out] = await settled(db_url, "wechat")
    assert sent.body["text"]["content"] == out.text and out.status == SENT


@pytest.mark.parametrize("as_deployed", [True, False], ids=["write-fails", "handler-cancelled"])
async def test_a_reply_whose_response_cannot_go_out_goes_through_the_api(
    platform_client, fake_wechat_api, db_url, caplog, as_deployed
):
    fake, _ = fake_wechat_api
    caplog.set_level(logging.INFO, "bot.connectors.wechat.passive")
    web = patient(await platform_client(worker_role=False, as_deployed=as_deployed))
    await platform_client(web_role=False)
    short = aiohttp.ClientTimeout(total=0.5)
    call = asyncio.create_task(post(web, wechat.text_fields(wechat.OPENID, "路灯"), timeout=short))
    message_id = await inbound_id(db_url)
    with pytest.raises(TimeoutError):
        await call  # WeChat hung up before the answer was ready
    await queue_replies(web, "wechat", wechat.OPENID, ["迟到的回答"], reply_to_id=message_id)
    [sent] = await fake.wait_for(1)
    assert sent.body["text"]["content"] == "迟到的回答"
    [out] = await settled(db_url, "wechat")
    assert (out.status, out.attempts) == (SENT, 1)
    # as deployed the claim is taken and given back when writing fails; under a server that
    # cancels the handler when the client hangs up, the claim is never taken
    assert ("not written" in caplog.text) == as_deployed


TEMPLATE = {
    "wechat": {
        "subscribe": {
            "template_id": "TPL-status-1",
            "page": "pages/tickets",
            "fields": {"thing1": "{text}", "time2": "{time}", "thing3": "{community}服务"},
        }
    }
}
UPDATE = "您反映的东关中巷路灯问题（工单 1001）已处理完毕，请回复 1 到 5 评价"


async def test_a_push_outside_the_window_goes_as_a_subscription_message(
    platform_client, fake_wechat_api, db_url
):
    fake, _ = fake_wechat_api
    client = await platform_client(overrides=TEMPLATE)
    days_ago = utcnow() - timedelta(days=3)
    await queue_replies(client, "wechat", "o-old", [UPDATE], last_message_at=days_ago)
    [sent] = await fake.wait_for(1)
    assert sent.path.endswith("/message/subscribe/bizsend")
    assert sent.body["template_id"] == "TPL-status-1" and sent.body["page"] == "pages/tickets"
    [fields] = fake.subscriptions("o-old")
    assert fields["thing1"] == UPDATE[:19] + "…" and len(fields["thing3"]) <= 20
    assert len(fields["time2"]) == 16  # 2026-11-28 14:30, local time
    [out] = await settled(db_url, "wechat")
    assert out.status == SENT


async def test_inside_the_window_a_refused_send_falls_back_to_a_subscription(
    platform_client, fake_wechat_api, db_url
):
    fake, _ = fake_wechat_api
    client = await platform_client(overrides=TEMPLATE)
    fake.window_closed.add("o-quiet")  # the platform counts differently: it says 45015
    await queue_replies(client, "wechat", "o-quiet", ["您的预约已确认"])
    [sent] = await fake.wait_for(1)
    assert sent.path.endswith("bizsend") and len(fake.refused) == 1
    assert fake.subscriptions("o-quiet")[0]["thing1"] == "您的预约已确认"


async def wait_failed(db_url: str) -> list:
    for _ in range(200):
        outs = await messages(db_url, "wechat", "out")
        if outs and all(m.status == FAILED for m in outs):
            return outs
        await asyncio.sleep(0.05)
    raise AssertionError("the push did not become a dead letter")


async def test_outside_the_window_without_a_template_is_a_dead_letter(
    platform_client, fake_wechat_api, db_url
):
    fake, _ = fake_wechat_api
    client = await platform_client()
    days_ago = utcnow() - timedelta(hours=49)
    await queue_replies(client, "wechat", "o-gone", [UPDATE], last_message_at=days_ago)
    [out] = await wait_failed(db_url)
    assert out.attempts == 1 and fake.sends == [] and fake.refused == []
    assert "48-hour" in out.last_error and "template" in out.last_error


async def test_a_refused_subscription_is_a_dead_letter(platform_client, fake_wechat_api, db_url):
    fake, _ = fake_wechat_api
    client = await platform_client(overrides=TEMPLATE)
    fake.unsubscribed.add("o-no")
    await queue_replies(
        client, "wechat", "o-no", [UPDATE], last_message_at=utcnow() - timedelta(days=5)
    )
    [out] = await wait_failed(db_url)
    assert out.attempts == 1 and "43101" in out.last_error and fake.sends == []
