"""WeChat Official Account (公众号) at /webhooks/wechat: plain or safe mode.

Every request carries `signature` over (token, timestamp, nonce): checked first (401), then
the timestamp window (401, see tencent/replay.py). Safe mode (`encrypt_type=aes`) also carries
`msg_signature` over the ciphertext, checked before decrypting; with LINLI_WECHAT_AES_KEY set
nothing else is accepted (401), whatever the caller asks for. Plain mode (no AES key, allowed
only with config.yml `wechat.allow_plain_mode`) cannot authenticate the body: the signature
never covers it. A (timestamp, nonce) seen before with another body is refused (401, see
tencent/replay.py). The callback is stored and queued; when the first answer is ready within
`wechat.passive_reply_seconds` it is the response (a passive reply, encrypted in safe mode,
see passive.py), otherwise the response is `success`. Other replies go through
`cgi-bin/message/custom/send`, allowed only within 48 h of the user's last message; a push
outside that window goes as a subscription message (`message/subscribe/bizsend`) when
config.yml sets a template, else it fails at once with a clear last_error (dead letter).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.connectors.base import Accept, SendError
from bot.connectors.tencent.callbacks import read_callback, split_text
from bot.connectors.tencent.crypto import (
    CryptoError,
    WXBizMsgCrypt,
    check_signature,
)
from bot.connectors.tencent.replay import NonceMemory, clock_problem
from bot.connectors.tencent.tokens import TokenCache, errcode, fetch_token, post_with_token
from bot.connectors.wechat.passive import PassiveReplies
from bot.responses import error
from storage.base import utcnow
from storage.outbox import Delivery

log = logging.getLogger(__name__)
PLATFORM = "wechat"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RATE_LIMITED = frozenset({45009})  # the app's daily API quota is used up
# outside the 48-hour window; too many customer-service messages since the user's last one
WINDOW_CLOSED = frozenset({45015, 45047})
# invalid openid / message type / template, not following, no permission, subscription refused
PERMANENT = frozenset({40003, 40008, 40037, 43004, 48001, 43101, 47003}) | WINDOW_CLOSED
SHANGHAI = ZoneInfo("Asia/Shanghai")


class WeChatConnector:
    """Verifies and parses Official Account callbacks; sends customer-service text replies."""

    platform = PLATFORM

    def __init__(self, settings: Settings, *, timeout: float = 10) -> None:
        if not (settings.wechat_app_id and settings.wechat_secret and settings.wechat_token):
            raise ValueError("the wechat connector needs LINLI_WECHAT_APP_ID, _SECRET and _TOKEN")
        self.app_id = settings.wechat_app_id
        self.secret = settings.wechat_secret
        self.token = settings.wechat_token
        self.api = settings.wechat_api_base.rstrip("/")
        self.crypt = (
            WXBizMsgCrypt(self.token, settings.wechat_aes_key, self.app_id)
            if settings.wechat_aes_key
            else None
        )
        self.rate_limited_retry = settings.file.pacing.rate_limited_retry_seconds
        self.window = settings.file.http.clock_skew_seconds
        self.nonces = NonceMemory(PLATFORM, self.window)
        self.cfg = settings.file.wechat
        self.community = settings.file.community
        self.passive = PassiveReplies(PLATFORM, self.app_id, self.cfg.passive_reply_seconds)
        self._redis: Redis | None = None
        self.timeout = timeout
        self._accept: Accept | None = None
        self._client: aiohttp.ClientSession | None = None
        self.tokens: TokenCache | None = None

    def register(self, app: web.Application, accept: Accept) -> None:
        """Add GET and POST /webhooks/wechat."""
        self._accept = accept
        app.router.add_get("/webhooks/wechat", self.verify_url)
        app.router.add_post("/webhooks/wechat", self.webhook)

    def _refused(self, request: web.Request) -> web.Response | None:
        """The 401 for a request not signed with our token or outside the timestamp window."""
        q = request.query
        if not check_signature(self.token, q.get("signature"), q.get("timestamp"), q.get("nonce")):
            return error(401, "bad_signature", "signature does not match")
        stale = clock_problem(q.get("timestamp"), self.window)
        if stale:
            return error(401, "stale_timestamp", stale)
        return None

    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer the server check with echostr, as given, when the signature is ours."""
        return self._refused(request) or web.Response(text=request.query.get("echostr", ""))

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """Check, (decrypt,) parse, store and queue a callback; answer passively or `success`."""
        started = asyncio.get_running_loop().time()
        body = await request.read()
        q = request.query
        refused = self._refused(request)
        if refused is not None:
            return refused
        safe = q.get("encrypt_type", "raw").lower() == "aes"
        if self.crypt is not None and not safe:
            return error(
                401,
                "safe_mode_required",
                "this account is in safe mode: callbacks must be encrypted (encrypt_type=aes)",
            )

        def read_xml() -> bytes:
            if not safe:
                return body
            if self.crypt is None:
                raise CryptoError("safe mode needs LINLI_WECHAT_AES_KEY")
            return self.crypt.decrypt_message(
                body, q.get("msg_signature"), q.get("timestamp"), q.get("nonce")
            )

        parsed = read_callback(PLATFORM, read_xml)
        if isinstance(parsed, web.Response):
            return parsed
        if self._accept is None or self._redis is None:
            raise RuntimeError("wechat webhook called before register() and start()")
        replayed = await self.nonces.replayed(
            self._redis, q.get("timestamp", ""), q.get("nonce"), body
        )
        if replayed:
            return error(401, "replayed", replayed)
        fields, event = parsed
        if event is None:
            return web.Response(text="success")
        held = await self.passive.hold(self._redis, event.message_id)
        if not await self._accept(event) or not held:  # a redelivery is answered `success`
            if held:
                await self.passive.unhold(self._redis, event.message_id)
            return web.Response(text="success")
        crypt = self.crypt if safe else None
        answered = await self.passive.answer(request, fields, event.message_id, started, crypt)
        return answered if answered is not None else web.Response(text="success")

    async def start(self, redis: Redis) -> None:
        """Open the HTTP client; the access_token is cached in Redis for all processes."""
        if self._client is None:
            timeout = aiohttp.ClientTimeout(total=self.timeout, connect=3)
            self._client = aiohttp.ClientSession(timeout=timeout)
        self.tokens = TokenCache(redis, f"linli:wechat:{{token}}:{self.app_id}", self._fetch_token)
        self._redis = redis

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _fetch_token(self) -> tuple[str, int]:
        if self._client is None:
            raise RuntimeError("wechat connector not started")
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}
        return await fetch_token(self._client, f"{self.api}/cgi-bin/token", params, "token")

    async def send(self, delivery: Delivery) -> None:
        """Send a reply: customer-service text inside the 48-hour window, else a subscription."""
        if self._client is None or self.tokens is None or self._redis is None:
            raise SendError("wechat connector not started")
        if delivery.reply_to:
            wait = await self.passive.held_for(self._redis, delivery.reply_to)
            if wait is not None:
                raise SendError("waiting: may go as a passive reply", retry_after=wait)
        window = timedelta(hours=self.cfg.service_window_hours)
        last = delivery.last_inbound_at
        if last is None or utcnow() - last >= window:
            await self._subscription(delivery, "outside the 48-hour customer-service window")
            return
        for n, chunk in enumerate(split_text(delivery.text)):
            payload = {"touser": delivery.user_id, "msgtype": "text", "text": {"content": chunk}}
            data = await self._post("custom/send", payload)
            if n == 0 and errcode(data) in WINDOW_CLOSED:
                await self._subscription(delivery, f"custom/send refused ({errcode(data)})")
                return
            self._check(data, "custom/send")

    async def _post(self, what: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self._client is None or self.tokens is None:
            raise RuntimeError("wechat connector not started")
        url = f"{self.api}/cgi-bin/message/{what}"
        return await post_with_token(self._client, self.tokens, url, payload, what, TOKEN_ERRORS)

    def subscription_payload(self, delivery: Delivery) -> dict[str, Any]:
        """The subscription message of config.yml's template, its fields filled and cut."""
        sub = self.cfg.subscribe
        values = {
            "text": " ".join(delivery.text.split()),
            "time": utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            "community": self.community,
        }
        data = {}
        for name, template in sub.fields.items():
            value = template.format_map(values)
            if len(value) > sub.max_field_chars:
                value = value[: sub.max_field_chars - 1] + "…"
            data[name] = {"value": value}
        payload: dict[str, Any] = {
            "touser": delivery.user_id,
            "template_id": sub.template_id,
            "data": data,
        }
        if sub.page:
            payload["page"] = sub.page
        return payload

    async def _subscription(self, delivery: Delivery, why: str) -> None:
        if not self.cfg.subscribe.template_id:
            raise SendError(
                f"{why}, and no subscription template is configured "
                "(config.yml wechat.subscribe.template_id)",
                permanent=True,
            )
        data = await self._post("subscribe/bizsend", self.subscription_payload(delivery))
        self._check(data, "subscribe/bizsend")

    def _check(self, data: dict[str, Any], what: str) -> None:
        code = errcode(data)
        if code in RATE_LIMITED:
            raise SendError(f"{what} quota used up ({code})", retry_after=self.rate_limited_retry)
        if code in PERMANENT:
            raise SendError(f"{what} refused: {code} {data.get('errmsg')}", permanent=True)
        if code:
            raise SendError(f"{what} failed: {code} {data.get('errmsg')}")
