"""Back-off after failed logins and bearer tokens, shared by every process through Redis.

Each subject (a name from one client address, an address, a name) has a count of failures
and, once the count reaches its free allowance, a time before which it is refused: the
first wait is `first_delay_seconds` and doubles with each further failure, up to
`max_delay_seconds`; failures are forgotten `forget_after_seconds` after the last one.

An attempt is counted before it is checked: taking it registers it as pending, in one
script, so a burst of parallel guesses gets at most the free allowance checked, and after
that one check at a time. Finishing it removes it from pending and, if it failed, counts
the failure. An attempt whose process died is dropped from pending after a while.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config import Auth

log = logging.getLogger(__name__)
PENDING_SECONDS = 60  # an attempt not finished by then (its process died) stops counting

_PRELUDE = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: state hash and pending set of each subject; ARGV: attempt id, pending seconds, then
# each subject's free allowance. Returns "0" when the attempt is taken, else seconds to wait.
_TAKE = (
    _PRELUDE
    + """
local wait = 0
for i = 1, #KEYS, 2 do
  local state, pending = KEYS[i], KEYS[i + 1]
  redis.call('ZREMRANGEBYSCORE', pending, '-inf', now - tonumber(ARGV[2]))
  local fields = redis.call('HMGET', state, 'fails', 'until')
  local fails = tonumber(fields[1] or '0')
  local blocked = tonumber(fields[2] or '0') - now
  local busy = redis.call('ZCARD', pending)
  if blocked > wait then wait = blocked end
  if busy > 0 and fails + busy >= tonumber(ARGV[2 + (i + 1) / 2]) and wait < 1 then
    wait = 1
  end
end
if wait > 0 then return tostring(wait) end
for i = 2, #KEYS, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2]) + 1)
end
return '0'
"""
)

# KEYS as above; ARGV: attempt id, 1 if it failed, first delay, longest delay, forget after,
# then each subject's free allowance. Returns the longest wait the failure started.
_FINISH = (
    _PRELUDE
    + """
local longest = 0
for i = 1, #KEYS, 2 do
  local state, pending = KEYS[i], KEYS[i + 1]
  redis.call('ZREM', pending, ARGV[1])
  if ARGV[2] == '1' then
    local fails = redis.call('HINCRBY', state, 'fails', 1)
    local free = tonumber(ARGV[5 + (i + 1) / 2])
    local delay = 0
    if fails >= free then
      delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (fails - free))
      local old = tonumber(redis.call('HGET', state, 'until') or '0')
      if now + delay > old then redis.call('HSET', state, 'until', tostring(now + delay)) end
      if delay > longest then longest = delay end
    end
    redis.call('PEXPIRE', state, math.ceil(math.max(tonumber(ARGV[5]), delay) * 1000))
  end
end
return tostring(longest)
"""
)


class TooManyAttempts(Exception):
    """Refused without checking: the subject is waiting out its back-off."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"try again in {seconds:.0f} s")
        self.seconds = seconds

    @property
    def retry_after(self) -> str:
        """The Retry-After header's value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(self.seconds)))


class ThrottleUnavailable(Exception):
    """Redis could not be asked, so the attempt cannot be counted."""


@dataclass(frozen=True)
class Subject:
    """What failures are counted for, and how many are free before the back-off."""

    key: str
    free: int


@dataclass
class Attempt:
    """One counted attempt; call failed() when the check does not pass."""

    id: str
    is_failure: bool = False

    def failed(self) -> None:
        """Count this attempt as a failure when it finishes."""
        self.is_failure = True


def _tag(text: str) -> str:
    """A fixed-length key part for text that callers choose (names, addresses)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def login_subjects(auth: Auth, username: str, address: str) -> list[Subject]:
    """A login is counted for the name from this address, the address, and the name."""
    return [
        Subject(
            f"linli:auth:login:pair:{_tag(username)}:{_tag(address)}", auth.login_free_failures
        ),
        Subject(f"linli:auth:login:addr:{_tag(address)}", auth.login_free_failures_per_address),
        Subject(f"linli:auth:login:name:{_tag(username)}", auth.login_free_failures_per_name),
    ]


def bearer_subjects(auth: Auth, address: str) -> list[Subject]:
    """A bearer token or session cookie is counted for the client address."""
    return [Subject(f"linli:auth:bearer:{_tag(address)}", auth.bearer_free_failures)]


class Throttle:
    """Takes attempts for subjects and finishes them, counting failures (see module doc)."""

    def __init__(self, redis: Redis, auth: Auth) -> None:
        self.auth = auth
        self._take = redis.register_script(_TAKE)
        self._finish = redis.register_script(_FINISH)

    @staticmethod
    def _keys(subjects: Sequence[Subject]) -> list[str]:
        return [name for s in subjects for name in (f"{s.key}:state", f"{s.key}:pending")]

    @asynccontextmanager
    async def attempt(
        self, subjects: Sequence[Subject], *, fail_open: bool = False
    ) -> AsyncIterator[Attempt]:
        """Count an attempt for the block; TooManyAttempts while a subject waits.

        Without Redis the attempt raises ThrottleUnavailable, or with fail_open goes ahead
        uncounted (logged).
        """
        attempt = Attempt(uuid.uuid4().hex)
        keys = self._keys(subjects)
        args: list[str | int | float] = [attempt.id, PENDING_SECONDS, *(s.free for s in subjects)]
        try:
            wait: float | None = float(await self._take(keys=keys, args=args))
        except RedisError as exc:
            if not fail_open:
                raise ThrottleUnavailable(str(exc)) from exc
            log.warning("failed attempts are not counted, Redis is unavailable: %s", exc)
            wait = None
        if wait is None:
            yield attempt
            return
        if wait > 0:
            raise TooManyAttempts(wait)
        try:
            yield attempt
        finally:
            await self._settle(keys, attempt, subjects)

    async def _settle(self, keys: list[str], attempt: Attempt, subjects: Sequence[Subject]) -> None:
        auth = self.auth
        args: list[str | int | float] = [
            attempt.id,
            1 if attempt.is_failure else 0,
            auth.first_delay_seconds,
            auth.max_delay_seconds,
            auth.forget_after_seconds,
            *(s.free for s in subjects),
        ]
        try:
            await self._finish(keys=keys, args=args)
        except RedisError as exc:  # the pending mark lapses by itself
            log.warning("could not record the end of an attempt: %s", exc)
