"""A short-lived Redis cache of NLU parses by normalised text (bursts repeat the same words).

When a storm knocks out the lights, many residents send 路灯坏了; the second and later
identical texts skip Rasa. Entries expire after a few minutes, so a newly loaded model is
in charge soon after it is switched in.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
PREFIX = "linli:nlu:"


def _key(text: str) -> str:
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()[:32]


async def cached_parse(redis: Redis, text: str) -> dict[str, Any] | None:
    """The cached parse of a normalised text, or None (also when Redis is unreachable)."""
    try:
        raw = await redis.get(_key(text))
    except RedisError as exc:
        log.debug("parse cache unavailable: %s", exc)
        return None
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def remember_parse(redis: Redis, text: str, parse: dict[str, Any], seconds: int) -> None:
    """Keep a parse for some seconds (best effort: a Redis error only costs a cache miss)."""
    if seconds <= 0:
        return
    try:
        await redis.set(_key(text), json.dumps(parse, ensure_ascii=False), ex=seconds)
    except RedisError as exc:
        log.debug("parse cache unavailable: %s", exc)
