"""access_token shared by all processes through Redis: cached, refreshed by one process at a time.

Both WeCom (`gettoken`) and WeChat (`cgi-bin/token`) hand out a token valid for about two
hours; fetching a new one may invalidate the old, so only the holder of a Redis lock fetches,
and everyone else re-reads the cache after the lock is released.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from bot.connectors.base import SendError

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[tuple[str, int]]]
MARGIN_SECONDS = 300  # refresh this long before the platform's expiry


class TokenCache:
    """One platform app's access_token in Redis under a hash-tagged key."""

    def __init__(self, redis: Redis, key: str, fetch: Fetch, lock_seconds: float = 15) -> None:
        self.redis = redis
        self.key = key
        self.fetch = fetch
        self.lock_seconds = lock_seconds
        self.fetches = 0

    async def get(self) -> str:
        """The cached token, fetching one when there is none (or it is about to expire)."""
        try:
            cached = await self.redis.get(self.key)
        except (RedisError, OSError) as exc:
            raise SendError(f"Redis unavailable for the access token: {exc}") from exc
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        return await self.refresh(stale=None)

    async def refresh(self, stale: str | None) -> str:
        """Replace a token the platform refused (or a missing one); one process fetches."""
        lock = self.redis.lock(
            self.key + ":lock", timeout=self.lock_seconds, blocking_timeout=self.lock_seconds
        )
        try:
            async with lock:
                cached = await self.redis.get(self.key)
                if cached:
                    token = cached.decode() if isinstance(cached, bytes) else str(cached)
                    if token != stale:
                        return token
                token, expires_in = await self.fetch()
                self.fetches += 1
                ttl = max(60, int(expires_in) - MARGIN_SECONDS)
                if ttl >= int(expires_in):
                    ttl = max(1, int(expires_in) // 2)
                await self.redis.set(self.key, token, ex=ttl)
                log.info("new access token for %s, cached for %d s", self.key, ttl)
                return token
        except LockError as exc:
            raise SendError(f"could not take the token lock {self.key}: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise SendError(f"Redis unavailable for the access token: {exc}") from exc


async def get_json(
    client: aiohttp.ClientSession, method: str, url: str, what: str, **kwargs: Any
) -> dict[str, Any]:
    """Call a platform API and return its JSON object; transport trouble is a SendError."""
    try:
        async with client.request(method, url, **kwargs) as resp:
            if resp.status != 200:
                raise SendError(f"{what} answered HTTP {resp.status}")
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise SendError(f"{what} failed: {exc!r}") from exc
    if not isinstance(data, dict):
        raise SendError(f"{what} answered a non-object")
    return data


async def fetch_token(
    client: aiohttp.ClientSession, url: str, params: dict[str, str], what: str
) -> tuple[str, int]:
    """GET a token endpoint and return (access_token, expires_in)."""
    data = await get_json(client, "GET", url, what, params=params)
    token = data.get("access_token")
    if data.get("errcode") or not isinstance(token, str) or not token:
        raise SendError(f"{what} refused: {data.get('errcode')} {data.get('errmsg')}")
    return token, int(data.get("expires_in") or 7200)


def errcode(data: dict[str, Any]) -> int:
    """The platform's errcode: 0 when absent, -1 when not a number."""
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


async def post_with_token(
    client: aiohttp.ClientSession,
    tokens: TokenCache,
    url: str,
    payload: dict[str, Any],
    what: str,
    token_errors: frozenset[int],
) -> dict[str, Any]:
    """POST JSON with ?access_token=; on a token error refresh once (one process) and retry."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    token = await tokens.get()
    data = await get_json(
        client, "POST", url, what, params={"access_token": token}, data=body, headers=headers
    )
    if errcode(data) in token_errors:
        log.info("%s: token refused (%s), refreshing", what, errcode(data))
        token = await tokens.refresh(stale=token)
        data = await get_json(
            client, "POST", url, what, params={"access_token": token}, data=body, headers=headers
        )
    return data
