"""A fake WeChat Official Account API (token, custom/send, subscribe/bizsend) and callbacks."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from bot.connectors.tencent.crypto import WXBizMsgCrypt, signature
from tests.fake_api import FakeAPI, Send, xml_of

APP_ID = "wx5823bf96d3bd56c7"
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SECRET = "wechat-secret-for-tests"
OPENID = "oDF3iY9ffA-hqb2vVvbr7qxf6A0Q"


def env(api_base: str, safe: bool = True) -> dict[str, str]:
    """The LINLI_WECHAT_* variables pointing at a fake (safe mode needs the AES key)."""
    values = {
        "LINLI_WECHAT_APP_ID": APP_ID,
        "LINLI_WECHAT_SECRET": SECRET,
        "LINLI_WECHAT_TOKEN": TOKEN,
        "LINLI_WECHAT_API_BASE": api_base,
    }
    if safe:
        values["LINLI_WECHAT_AES_KEY"] = AES_KEY
    return values


def text_fields(user: str, text: str, msg_id: str | None = None) -> dict[str, str | int]:
    """A text message from a follower."""
    return {
        "ToUserName": "gh_1234567890ab",
        "FromUserName": user,
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": text,
        "MsgId": msg_id or str(uuid.uuid4().int)[:19],
    }


def signed_query(
    *, at: float | None = None, nonce: str | None = None, **extra: str
) -> dict[str, str]:
    """timestamp (now, or at), nonce (fresh, or given) and the plain signature of a request."""
    timestamp = str(int(time.time() if at is None else at))
    nonce = nonce or uuid.uuid4().hex[:10]
    return {
        "signature": signature(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        **extra,
    }


def callback(
    inner: bytes | dict[str, str | int],
    safe: bool = True,
    *,
    at: float | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """Query and body of a POST callback in plain or safe mode (signed at `at`, default now)."""
    message = inner if isinstance(inner, bytes) else xml_of(inner)
    query = signed_query(at=at, nonce=nonce, openid=OPENID)
    if not safe:
        return query, message
    encrypted = WXBizMsgCrypt(TOKEN, AES_KEY, APP_ID).encrypt(message)
    query["encrypt_type"] = "aes"
    query["msg_signature"] = signature(TOKEN, query["timestamp"], query["nonce"], encrypted)
    return query, xml_of({"ToUserName": "gh_1234567890ab", "Encrypt": encrypted})


@dataclass
class FakeWeChat(FakeAPI):
    """cgi-bin/token, message/custom/send and message/subscribe/bizsend, recording calls.

    window_closed: followers whose 48-hour window has passed (custom/send answers 45015);
    unsubscribed: followers who refused subscription messages (bizsend answers 43101).
    """

    window_closed: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)

    def routes(self, app: web.Application) -> None:
        """Add the documented paths."""
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_post("/cgi-bin/message/subscribe/bizsend", self.subscribe_send)

    async def token(self, request: web.Request) -> web.Response:
        """Issue a token for the right app id and secret."""
        q = request.query
        if q.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if q.get("appid") != APP_ID or q.get("secret") != SECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        return web.json_response(self.issue_token())

    async def custom_send(self, request: web.Request) -> web.Response:
        """Record a customer-service message (refused outside the follower's window)."""
        return await self._refusing(
            request, self.window_closed, 45015, "response out of time limit"
        )

    async def subscribe_send(self, request: web.Request) -> web.Response:
        """Record a subscription message (refused when the follower did not subscribe)."""
        return await self._refusing(request, self.unsubscribed, 43101, "user refuse to accept")

    async def _refusing(
        self, request: web.Request, users: set[str], code: int, why: str
    ) -> web.Response:
        body = json.loads(await request.read())
        if body.get("touser") in users and not self.token_error(
            request.query.get("access_token", "")
        ):
            self.refused.append(Send(request.path, body, time.monotonic()))
            return web.json_response({"errcode": code, "errmsg": why})
        return await self.record(request)

    def subscriptions(self, user: str) -> list[dict[str, str]]:
        """The data fields of subscription messages sent to one follower, as {field: value}."""
        return [
            {k: v["value"] for k, v in s.body["data"].items()}
            for s in self.sends
            if s.path.endswith("bizsend") and s.body.get("touser") == user
        ]

    def to(self, user: str) -> list[str]:
        """Texts sent to one follower, in order."""
        return [
            s.body["text"]["content"]
            for s in self.sends
            if s.body.get("touser") == user and "text" in s.body
        ]
