"""Replay protection of signed callbacks: a timestamp window and a memory of (timestamp, nonce).

Tencent's signatures (WeCom, WeChat) cover token, timestamp and nonce (and the ciphertext in
safe mode), so a request seen once (a proxy's log) stays valid until refused by time or by
memory. A callback is refused (401) when its timestamp is more than `http.clock_skew_seconds`
(at most 300) away from the server's clock, and when its (timestamp, nonce) came before with
a different body.

The same (timestamp, nonce) with the same body is let through: that is how the platforms
retry a callback they got no answer to (WeChat three times, 5 s apart, with the same URL), and
a retry must not turn into a lost message. It then goes the usual way: the message id is
already stored, so it is answered `success` (WeChat) or an empty 200 (WeCom) and creates
nothing; if the first try failed before the message was stored (503), the retry stores it.

The memory lives in Redis (SET NX, expiring when the timestamp leaves the window). When Redis
cannot be reached the callback is let through with a warning: messages are stored and
answered while Redis is down (the sweeper queues them later), and the timestamp window still
holds.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
MAX_NONCE_CHARS = 64


def clock_problem(timestamp: str | None, window: int, now: float | None = None) -> str | None:
    """Why a request's unix-seconds timestamp is unusable or outside the window, or None."""
    if not timestamp:
        return "timestamp missing"
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return "timestamp is not unix seconds"
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return f"timestamp is more than {window} s away from the server's clock"
    return None


def nonce_key(platform: str, timestamp: str, nonce: str) -> str:
    """Redis key remembering one (timestamp, nonce) of a platform."""
    return f"linli:replay:{platform}:{timestamp}:{nonce}"


class NonceMemory:
    """Remembers each signed (timestamp, nonce) of one platform with the body it came with."""

    def __init__(self, platform: str, window: int) -> None:
        self.platform = platform
        self.window = window

    async def replayed(
        self, redis: Redis, timestamp: str, nonce: str | None, body: bytes
    ) -> str | None:
        """Why this (timestamp, nonce) is a replay with another body, or None to go on.

        Call only after the signature and clock_problem() passed: the timestamp is digits.
        """
        if not nonce or len(nonce) > MAX_NONCE_CHARS:
            return f"nonce missing or longer than {MAX_NONCE_CHARS} characters"
        key = nonce_key(self.platform, timestamp, nonce)
        digest = hashlib.sha256(body).hexdigest()
        # kept until the timestamp leaves the window (a future timestamp: up to twice it)
        seconds = max(1, int(timestamp) + self.window - int(time.time()) + 1)
        try:
            if await redis.set(key, digest, ex=seconds, nx=True):
                return None
            seen = await redis.get(key)
        except (RedisError, OSError) as exc:
            log.warning(
                "%s callback (timestamp %r, nonce %r) not checked for replay (Redis: %r)",
                self.platform,
                timestamp,
                nonce,
                exc,
            )
            return None
        if seen is None or (seen.decode() if isinstance(seen, bytes) else seen) == digest:
            return None  # a platform's retry (or the memory just expired): the same request
        log.warning(
            "%s callback refused: timestamp %r, nonce %r came before with another body",
            self.platform,
            timestamp,
            nonce,
        )
        return "this timestamp and nonce were already used for another request"
