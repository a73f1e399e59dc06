"""A fake WeCom API (gettoken, message/send, webhook/send) and the callbacks WeCom would send."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.connectors.tencent.crypto import WXBizMsgCrypt, signature
from tests.fake_api import FakeAPI, xml_of

# Tencent's Python sample credentials (its URL-check vector is in test_wxcrypto).
CORP_ID = "ww1436e0e65a779aee"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
AGENT_ID = "1000002"
SECRET = "wecom-secret-for-tests"
ROBOT_KEY = "robot-key-0001"
ROBOT_CHAT = "grid-G01-group"  # the group chat that robot speaks in


def textcard_problem(card: Any) -> str | None:
    """What breaks message/send's documented textcard rules, or None.

    title (required) at most 128 bytes, description (required) at most 512 bytes, url
    (required, http or https), btntxt (optional) at most 4 characters.
    """
    if not isinstance(card, dict):
        return "textcard missing"
    title, description = card.get("title"), card.get("description")
    url, button = card.get("url"), card.get("btntxt", "详情")
    if not isinstance(title, str) or not title or len(title.encode()) > 128:
        return "title missing or over 128 bytes"
    if not isinstance(description, str) or not description or len(description.encode()) > 512:
        return "description missing or over 512 bytes"
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "url missing"
    if not isinstance(button, str) or len(button) > 4:
        return "btntxt over 4 characters"
    return None


def env(api_base: str) -> dict[str, str]:
    """The LINLI_WECOM_* variables pointing at a fake."""
    return {
        "LINLI_WECOM_CORP_ID": CORP_ID,
        "LINLI_WECOM_AGENT_ID": AGENT_ID,
        "LINLI_WECOM_SECRET": SECRET,
        "LINLI_WECOM_TOKEN": TOKEN,
        "LINLI_WECOM_AES_KEY": AES_KEY,
        "LINLI_WECOM_API_BASE": api_base,
        "LINLI_WECOM_ROBOT_KEYS": f"{ROBOT_CHAT}={ROBOT_KEY}",
    }


def crypt() -> WXBizMsgCrypt:
    """The app's crypto, as the platform holds it."""
    return WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)


def text_fields(user: str, text: str, msg_id: str | None = None) -> dict[str, str | int]:
    """A text message from a member."""
    return {
        "ToUserName": CORP_ID,
        "FromUserName": user,
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": text,
        "MsgId": msg_id or str(uuid.uuid4().int)[:19],
        "AgentID": int(AGENT_ID),
    }


def callback(
    inner: bytes | dict[str, str | int], *, at: float | None = None, nonce: str | None = None
) -> tuple[dict[str, str], bytes]:
    """Query and body of an encrypted POST callback carrying an inner XML (or its fields),
    signed at `at` (default now) with a fresh nonce unless one is given."""
    message = inner if isinstance(inner, bytes) else xml_of(inner)
    timestamp = str(int(time.time() if at is None else at))
    nonce = nonce or uuid.uuid4().hex[:10]
    c = crypt()
    encrypted = c.encrypt(message)
    body = xml_of({"ToUserName": CORP_ID, "Encrypt": encrypted, "AgentID": int(AGENT_ID)})
    query = {
        "msg_signature": signature(TOKEN, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    return query, body


def url_check(echo: str, *, at: float | None = None) -> dict[str, str]:
    """Query of a GET URL verification whose echostr decrypts to echo (signed at `at`)."""
    timestamp, nonce = str(int(time.time() if at is None else at)), uuid.uuid4().hex[:10]
    echostr = crypt().encrypt(echo.encode())
    return {
        "msg_signature": signature(TOKEN, timestamp, nonce, echostr),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }


@dataclass
class FakeWeCom(FakeAPI):
    """gettoken, message/send and webhook/send as documented, recording calls."""

    robot_keys: set[str] = field(default_factory=lambda: {ROBOT_KEY})
    bad_cards: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def routes(self, app: web.Application) -> None:
        """Add the documented paths."""
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/message/send", self.message_send)
        app.router.add_post("/cgi-bin/webhook/send", self.webhook_send)

    async def gettoken(self, request: web.Request) -> web.Response:
        """Issue a token for the right corp id and secret."""
        q = request.query
        if q.get("corpid") != CORP_ID:
            return web.json_response({"errcode": 40013, "errmsg": "invalid corpid"})
        if q.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid secret"})
        return web.json_response(self.issue_token())

    async def message_send(self, request: web.Request) -> web.Response:
        """Record an application message; a textcard must keep WeCom's documented limits."""
        body = json.loads(await request.read() or b"{}")
        if body.get("msgtype") == "textcard":
            problem = textcard_problem(body.get("textcard"))
            if problem is not None:
                self.bad_cards.append((body, problem))
                return web.json_response(
                    {"errcode": 40058, "errmsg": f"invalid textcard: {problem}"}
                )
        return await self.record(request)

    async def webhook_send(self, request: web.Request) -> web.Response:
        """Record a group robot push (authenticated by its key, not a token)."""
        if request.query.get("key") not in self.robot_keys:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        return await self.record(request, check_token=False)

    def ok_answer(self) -> dict[str, Any]:
        """message/send's success answer."""
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": uuid.uuid4().hex}

    def cards_to(self, user: str) -> list[dict[str, str]]:
        """Textcards sent to one member, in order."""
        return [
            s.body["textcard"]
            for s in self.sends
            if s.path.endswith("message/send")
            and s.body.get("touser") == user
            and s.body.get("msgtype") == "textcard"
        ]

    def to(self, user: str) -> list[str]:
        """Texts sent to one member, in order."""
        return [
            s.body["text"]["content"]
            for s in self.sends
            if s.path.endswith("message/send")
            and s.body.get("touser") == user
            and s.body.get("msgtype") == "text"
        ]
