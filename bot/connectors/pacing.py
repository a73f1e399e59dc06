"""Send pacing shared by all processes: a sliding-window log per key in one Redis sorted set."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.connectors.base import SendError

log = logging.getLogger(__name__)

Window = tuple[int, float]  # (at most this many sends, within this many seconds)

# KEYS[1] the log; ARGV: cost, unique id, then limit/seconds pairs. Uses the server's clock
# so every process agrees. Returns "0" when the sends were recorded, else seconds to wait.
_SCRIPT = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local longest = 0
local wait = 0
for i = 3, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local span = tonumber(ARGV[i + 1])
  if span > longest then longest = span end
  local used = redis.call('ZCOUNT', KEYS[1], '(' .. (now - span), '+inf')
  if used + cost > limit then
    if cost > limit then return tostring(span) end
    local rows = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - span), '+inf',
                            'WITHSCORES', 'LIMIT', used + cost - limit - 1, 1)
    local free_at = tonumber(rows[2]) + span - now
    if free_at > wait then wait = free_at end
  end
end
if wait > 0 then return tostring(wait) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
for n = 1, cost do
  redis.call('ZADD', KEYS[1], now, ARGV[2] .. ':' .. n)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(longest * 1000) + 1000)
return '0'
"""


class SlidingWindowLimiter:
    """Allows a send only when every window has room; otherwise says how long to wait."""

    def __init__(self, redis: Redis, prefix: str, windows: Sequence[Window]) -> None:
        self.redis = redis
        self.prefix = prefix
        self.windows = [(int(limit), float(span)) for limit, span in windows]
        self._script = redis.register_script(_SCRIPT)

    def key(self, name: str) -> str:
        """The Redis key of one paced subject; the hash tag keeps it in one cluster slot."""
        return f"{self.prefix}:{{{name}}}"

    async def acquire(self, name: str, cost: int = 1) -> float | None:
        """Record cost sends for name and return None, or return seconds until there is room."""
        if not self.windows:
            return None
        args: list[str | int | float] = [cost, uuid.uuid4().hex]
        for limit, span in self.windows:
            args += [limit, span]
        result = await self._script(keys=[self.key(name)], args=args)
        wait = float(result.decode() if isinstance(result, bytes) else result)
        if wait <= 0:
            return None
        log.debug("pacing %s: wait %.2f s", name, wait)
        return max(wait, 0.01)


async def paced(limiter: SlidingWindowLimiter | None, name: str, cost: int = 1) -> None:
    """Raise SendError(retry_after) when name has no room left in its windows."""
    if limiter is None:
        return
    try:
        wait = await limiter.acquire(name, cost)
    except (RedisError, OSError) as exc:
        raise SendError(f"Redis unavailable for pacing: {exc}") from exc
    if wait is not None:
        raise SendError(f"paced: {name} over its send limit", retry_after=wait)
