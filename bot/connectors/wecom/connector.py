"""WeCom (企业微信) self-built app: encrypted callbacks at /webhooks/wecom, replies by message/send.

GET is the URL check (the decrypted echostr, bare). POST callbacks are checked (401: the
msg_signature over the ciphertext, the timestamp window, a (timestamp, nonce) already used
with another body, see tencent/replay.py), decrypted and parsed (400), stored and queued,
then answered with an empty 200; see tencent/callbacks.py for which message types become
text. Replies go through `cgi-bin/message/send` (a task card with its
link as a textcard, everything else as text) with a shared, cached access_token, paced per
member (config.yml `pacing.wecom_member`). Replies in a group chat
go through that group's robot (LINLI_WECOM_ROBOT_KEYS="chat_id=key,…"), mentioning the
member; a group without a robot gets the reply as a direct message to the member.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.connectors.base import Accept, SendError
from bot.connectors.pacing import SlidingWindowLimiter, paced
from bot.connectors.tencent.callbacks import read_callback, split_text
from bot.connectors.tencent.crypto import CryptoError, SignatureError, WXBizMsgCrypt
from bot.connectors.tencent.replay import NonceMemory, clock_problem
from bot.connectors.tencent.tokens import TokenCache, errcode, fetch_token, post_with_token
from bot.connectors.wecom.codes import PERMANENT, RATE_LIMITED, TOKEN_ERRORS
from bot.connectors.wecom.robot import GroupRobot
from bot.responses import error
from storage.cards import TaskCard
from storage.outbox import Delivery

log = logging.getLogger(__name__)
PLATFORM = "wecom"
# textcard limits (message/send): title 128 bytes, description 512 bytes, button 4 characters
TITLE_BYTES, DESCRIPTION_BYTES, BUTTON_CHARS = 128, 512, 4


def clip_bytes(text: str, limit: int) -> str:
    """The longest prefix of text whose UTF-8 form fits in limit bytes (no broken character)."""
    return text.encode()[:limit].decode(errors="ignore")


def textcard(card: TaskCard) -> dict[str, str]:
    """message/send's textcard object: each line a <div>, the whole within WeCom's limits."""
    lines = [f'<div class="normal">{html.escape(x)}</div>' for x in card.description.split("\n")]
    while len(lines) > 1 and len("".join(lines).encode()) > DESCRIPTION_BYTES:
        lines.pop()  # drop whole trailing lines first, so markup is never cut in half
    description = "".join(lines)
    if len(description.encode()) > DESCRIPTION_BYTES:
        description = clip_bytes(card.description, DESCRIPTION_BYTES)
    return {
        "title": clip_bytes(card.title, TITLE_BYTES),
        "description": description,
        "url": card.url,
        "btntxt": card.button[:BUTTON_CHARS],
    }


def parse_robot_keys(raw: str) -> dict[str, str]:
    """{chat_id: robot key} from "chat_id=key,chat_id=key" (blank parts ignored)."""
    pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
    return {chat.strip(): key.strip() for chat, key in pairs if chat.strip() and key.strip()}


class WeComConnector:
    """Verifies, decrypts and parses WeCom callbacks; sends text replies and task cards."""

    platform = PLATFORM

    def __init__(self, settings: Settings, *, timeout: float = 10) -> None:
        if not (
            settings.wecom_corp_id
            and settings.wecom_agent_id
            and settings.wecom_secret
            and settings.wecom_token
            and settings.wecom_aes_key
        ):
            raise ValueError("the wecom connector needs all LINLI_WECOM_* variables")
        self.corp_id = settings.wecom_corp_id
        self.agent_id = int(settings.wecom_agent_id or 0)
        self.secret = settings.wecom_secret or ""
        self.api = settings.wecom_api_base.rstrip("/")
        self.crypt = WXBizMsgCrypt(settings.wecom_token, settings.wecom_aes_key, self.corp_id)
        self.window = settings.file.http.clock_skew_seconds
        self.nonces = NonceMemory(PLATFORM, self.window)
        self._redis: Redis | None = None
        self.windows = list(settings.file.pacing.wecom_member)
        self.rate_limited_retry = settings.file.pacing.rate_limited_retry_seconds
        self.robot_keys = parse_robot_keys(settings.wecom_robot_keys or "")
        self.robot_windows = list(settings.file.pacing.wecom_robot)
        self.robots: dict[str, GroupRobot] = {}
        self.timeout = timeout
        self._accept: Accept | None = None
        self._client: aiohttp.ClientSession | None = None
        self.tokens: TokenCache | None = None
        self.limiter: SlidingWindowLimiter | None = None

    def register(self, app: web.Application, accept: Accept) -> None:
        """Add GET and POST /webhooks/wecom."""
        self._accept = accept
        app.router.add_get("/webhooks/wecom", self.verify_url)
        app.router.add_post("/webhooks/wecom", self.webhook)

    async def verify_url(self, request: web.Request) -> web.Response:
        """Answer the URL check with the decrypted echostr as bare text."""
        q = request.query
        stale = clock_problem(q.get("timestamp"), self.window)
        if stale:
            return error(401, "stale_timestamp", stale)
        try:
            echo = self.crypt.verify_url(
                q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), q.get("echostr", "")
            )
        except SignatureError as exc:
            return error(401, "bad_signature", str(exc))
        except (CryptoError, UnicodeDecodeError) as exc:
            return error(400, "bad_request", f"echostr: {exc}")
        return web.Response(text=echo)

    async def webhook(self, request: web.Request) -> web.Response:
        """Check, decrypt, parse, store and queue a callback; an empty 200 when accepted."""
        body = await request.read()
        q = request.query
        parsed = read_callback(
            PLATFORM,
            lambda: self.crypt.decrypt_message(
                body, q.get("msg_signature"), q.get("timestamp"), q.get("nonce")
            ),
        )
        if isinstance(parsed, web.Response):
            return parsed
        stale = clock_problem(q.get("timestamp"), self.window)
        if stale:
            return error(401, "stale_timestamp", stale)
        if self._accept is None or self._redis is None:
            raise RuntimeError("wecom webhook called before register() and start()")
        replayed = await self.nonces.replayed(
            self._redis, q.get("timestamp", ""), q.get("nonce"), body
        )
        if replayed:
            return error(401, "replayed", replayed)
        event = parsed[1]
        if event is not None:
            await self._accept(event)
        return web.Response(text="")

    async def start(self, redis: Redis) -> None:
        """Open the HTTP client; the token cache and the pacing limiter live in Redis."""
        if self._client is None:
            timeout = aiohttp.ClientTimeout(total=self.timeout, connect=3)
            self._client = aiohttp.ClientSession(timeout=timeout)
        self._redis = redis
        key = f"linli:wecom:{{token}}:{self.corp_id}:{self.agent_id}"
        self.tokens = TokenCache(redis, key, self._fetch_token)
        self.limiter = SlidingWindowLimiter(redis, "linli:wecom:pace", self.windows)
        self.robots = {
            chat: self._robot(GroupRobot, redis, key) for chat, key in self.robot_keys.items()
        }

    def _robot(self, kind: type[GroupRobot], redis: Redis, key: str) -> GroupRobot:
        if self._client is None:
            raise RuntimeError("wecom connector not started")
        return kind(
            self._client,
            redis,
            key,
            api_base=self.api,
            windows=self.robot_windows,
            rate_limited_retry=self.rate_limited_retry,
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _fetch_token(self) -> tuple[str, int]:
        if self._client is None:
            raise RuntimeError("wecom connector not started")
        params = {"corpid": self.corp_id, "corpsecret": self.secret}
        return await fetch_token(self._client, f"{self.api}/cgi-bin/gettoken", params, "gettoken")

    async def send(self, delivery: Delivery) -> None:
        """Send a reply to one member (a task as a textcard), paced; errors become SendError."""
        if self._client is None or self.tokens is None:
            raise SendError("wecom connector not started")
        robot = self.robots.get(delivery.chat_id) if delivery.chat_id != delivery.user_id else None
        if robot is not None:
            for chunk in split_text(delivery.text):
                await robot.send_text(chunk, mentioned=[delivery.user_id])
            return
        card = TaskCard.from_json(delivery.card)
        if card is not None:  # a task: one textcard with a button to the task page
            bodies: list[dict[str, Any]] = [{"msgtype": "textcard", "textcard": textcard(card)}]
        else:
            bodies = [
                {"msgtype": "text", "text": {"content": chunk}}
                for chunk in split_text(delivery.text)
            ]
        await paced(self.limiter, delivery.user_id, len(bodies))
        for body in bodies:
            payload = {"touser": delivery.user_id, "agentid": self.agent_id, **body}
            data = await post_with_token(
                self._client,
                self.tokens,
                f"{self.api}/cgi-bin/message/send",
                payload,
                "message/send",
                TOKEN_ERRORS,
            )
            self._check(data, delivery.user_id)

    def _check(self, data: dict[str, Any], user: str) -> None:
        code = errcode(data)
        if code in RATE_LIMITED:
            raise SendError(
                f"message/send rate limited ({code})", retry_after=self.rate_limited_retry
            )
        if code in PERMANENT:
            raise SendError(f"message/send refused: {code} {data.get('errmsg')}", permanent=True)
        if code:
            raise SendError(f"message/send failed: {code} {data.get('errmsg')}")
        if user in str(data.get("invaliduser") or "").split("|"):
            raise SendError(f"message/send: {user} is not a valid member", permanent=True)
