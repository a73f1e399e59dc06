"""The generic connector: signed JSON webhooks in, signed JSON posts out (architecture.md)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.connectors.base import Accept, InboundEvent, SendError
from bot.connectors.signing import signed_headers, verify_request
from bot.responses import error, ok
from storage.outbox import Delivery

log = logging.getLogger(__name__)
PLATFORM = "generic"
_ID_FIELDS = ("message_id", "user_id", "chat_id")


def parse_body(body: bytes) -> InboundEvent | str:
    """Parse and validate a webhook body; return the event or the reason it is invalid."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "body is not valid JSON"
    if not isinstance(data, dict):
        return "body must be a JSON object"
    missing = [f for f in (*_ID_FIELDS, "text", "timestamp") if f not in data]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    for name in _ID_FIELDS:
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            return f"{name} must be a non-empty string"
        if len(str(value)) > 128:
            return f"{name} is longer than 128 characters"
    if not isinstance(data["text"], str):
        return "text must be a string"
    stamp = data["timestamp"]
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not 0 <= stamp < 1e11:
        return "timestamp must be unix seconds"
    user_name = data.get("user_name")
    if user_name is not None and not isinstance(user_name, str):
        return "user_name must be a string"
    for flag in ("is_group", "mentioned"):
        if not isinstance(data.get(flag, False), bool):
            return f"{flag} must be true or false"
    return InboundEvent(
        platform=PLATFORM,
        message_id=str(data["message_id"]),
        user_id=str(data["user_id"]),
        chat_id=str(data["chat_id"]),
        text=data["text"],
        timestamp=datetime.fromtimestamp(stamp, UTC),
        user_name=(user_name or None) and user_name[:64],
        is_group=data.get("is_group", False),
        mentioned=data.get("mentioned", False),
    )


class GenericConnector:
    """Verifies, parses and answers the generic platform."""

    platform = PLATFORM

    def __init__(self, settings: Settings) -> None:
        if not settings.generic_secret:
            raise ValueError("the generic connector needs LINLI_GENERIC_SECRET")
        self.secret = settings.generic_secret
        self.outbound_url = settings.generic_outbound_url
        self.skew = settings.file.http.clock_skew_seconds
        self._accept: Accept | None = None
        self._client: aiohttp.ClientSession | None = None

    def register(self, app: web.Application, accept: Accept) -> None:
        """Add POST /webhooks/generic."""
        self._accept = accept
        app.router.add_post("/webhooks/generic", self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """Check the signature, reject bad bodies, store and queue, then answer 200."""
        body = await request.read()
        reason = verify_request(self.secret, request.headers, body, self.skew)
        if reason:
            return error(401, "bad_signature", reason)
        event = parse_body(body)
        if isinstance(event, str):
            return error(400, "bad_request", event)
        if self._accept is None:
            raise RuntimeError("generic webhook called before register()")
        await self._accept(event)
        return ok()

    async def start(self, redis: Redis | None = None) -> None:
        """Open the pooled client session used for replies (Redis is not needed here)."""
        if self._client is None:
            timeout = aiohttp.ClientTimeout(total=10, connect=3)
            self._client = aiohttp.ClientSession(timeout=timeout)

    async def close(self) -> None:
        """Close the client session."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, delivery: Delivery) -> None:
        """POST one signed reply to LINLI_GENERIC_OUTBOUND_URL; non-2xx raises SendError."""
        if not self.outbound_url:
            raise SendError("LINLI_GENERIC_OUTBOUND_URL is not set", permanent=True)
        await self.start()
        if self._client is None:
            raise RuntimeError("generic connector not started")
        payload: dict[str, Any] = {
            "message_id": delivery.delivery_id,
            "chat_id": delivery.chat_id,
            "user_id": delivery.user_id,
            "text": delivery.text,
        }
        if delivery.reply_to:
            payload["reply_to"] = delivery.reply_to
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            async with self._client.post(
                self.outbound_url, data=body, headers=signed_headers(self.secret, body)
            ) as resp:
                if resp.status // 100 != 2:
                    raise SendError(f"outbound URL answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"outbound URL unreachable: {exc!r}") from exc
