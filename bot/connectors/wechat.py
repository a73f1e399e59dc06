"""WeChat Official Account (公众号) at /webhooks/wechat: plain or safe mode, replies by API.

Every request carries `signature` over (token, timestamp, nonce): checked first (401). Safe
mode (`encrypt_type=aes`) also carries `msg_signature` over the ciphertext, checked before
decrypting. The callback is stored and queued, then answered `success` at once; the reply
goes later through `cgi-bin/message/custom/send` (allowed within 48 h of the user's message).
Not done here: the passive reply within 4 s and subscription (template) messages.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.connectors import Accept, SendError
from bot.connectors.wxcrypto import (
    CryptoError,
    WXBizMsgCrypt,
    check_signature,
)
from bot.connectors.wxmessage import accept_callback, split_text
from bot.connectors.wxtoken import TokenCache, errcode, fetch_token, post_with_token
from bot.responses import error
from storage.outbox import Delivery

log = logging.getLogger(__name__)
PLATFORM = "wechat"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RATE_LIMITED = frozenset({45009})  # the app's daily API quota is used up
# invalid openid / message type, not following, outside 48 h, too many replies, no permission
PERMANENT = frozenset({40003, 40008, 43004, 45015, 45047, 48001})


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
        self.timeout = timeout
        self._accept: Accept | None = None
        self._client: aiohttp.ClientSession | None = None
        self.tokens: TokenCache | None = None

    def register(self, app: web.Application, accept: Accept) -> None:
        """Add GET and POST /webhooks/wechat."""
        self._accept = accept
        app.router.add_get("/webhooks/wechat", self.verify_url)
        app.router.add_post("/webhooks/wechat", self.webhook)

    def _signed(self, request: web.Request) -> bool:
        q = request.query
        return check_signature(self.token, q.get("signature"), q.get("timestamp"), q.get("nonce"))

    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer the server check with echostr, as given, when the signature is ours."""
        if not self._signed(request):
            return error(401, "bad_signature", "signature does not match")
        return web.Response(text=request.query.get("echostr", ""))

    async def webhook(self, request: web.Request) -> web.Response:
        """Check, (decrypt,) parse, store and queue a callback; `success` when accepted."""
        body = await request.read()
        q = request.query
        if not self._signed(request):
            return error(401, "bad_signature", "signature does not match")

        def read_xml() -> bytes:
            if q.get("encrypt_type", "raw").lower() != "aes":
                return body
            if self.crypt is None:
                raise CryptoError("safe mode needs LINLI_WECHAT_AES_KEY")
            return self.crypt.decrypt_message(
                body, q.get("msg_signature"), q.get("timestamp"), q.get("nonce")
            )

        return await accept_callback(PLATFORM, read_xml, self._accept, "success")

    async def start(self, redis: Redis) -> None:
        """Open the HTTP client; the access_token is cached in Redis for all processes."""
        if self._client is None:
            timeout = aiohttp.ClientTimeout(total=self.timeout, connect=3)
            self._client = aiohttp.ClientSession(timeout=timeout)
        self.tokens = TokenCache(redis, f"linli:wechat:{{token}}:{self.app_id}", self._fetch_token)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _fetch_token(self) -> tuple[str, int]:
        assert self._client is not None
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}
        return await fetch_token(self._client, f"{self.api}/cgi-bin/token", params, "token")

    async def send(self, delivery: Delivery) -> None:
        """Send a text reply through the customer-service API; errors become SendError."""
        if self._client is None or self.tokens is None:
            raise SendError("wechat connector not started")
        for chunk in split_text(delivery.text):
            payload = {"touser": delivery.user_id, "msgtype": "text", "text": {"content": chunk}}
            data = await post_with_token(
                self._client, self.tokens, f"{self.api}/cgi-bin/message/custom/send", payload,
                "custom/send", TOKEN_ERRORS,
            )  # fmt: skip
            self._check(data)

    def _check(self, data: dict[str, Any]) -> None:
        code = errcode(data)
        if code in RATE_LIMITED:
            raise SendError(
                f"custom/send quota used up ({code})", retry_after=self.rate_limited_retry
            )
        if code in PERMANENT:
            raise SendError(f"custom/send refused: {code} {data.get('errmsg')}", permanent=True)
        if code:
            raise SendError(f"custom/send failed: {code} {data.get('errmsg')}")
