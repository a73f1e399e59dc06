"""Failed logins, counted per username and per client address in Redis, for the API and console.

Five failures of either in ten minutes lock it out until the window passes.
"""

from __future__ import annotations

from aiohttp import web

from bot.runtime import RUNTIME

LOGIN_LIMIT = 5  # failed attempts per username (and per client address) …
LOGIN_WINDOW = 600  # … in this many seconds


async def count_failed_login(request: web.Request, username: str) -> bool:
    """Count a failed login; True when the username or address is over the limit."""
    redis = request.app[RUNTIME].redis
    keys = [f"linli:login:user:{username}", f"linli:login:addr:{request.remote or '?'}"]
    over = False
    for key in keys:
        count = await redis.incr(key)
        if count == 1:
            await redis.expire(key, LOGIN_WINDOW)
        over = over or count > LOGIN_LIMIT
    return over


async def login_blocked(request: web.Request, username: str) -> bool:
    """Whether the username or the client's address is locked out (too many failures)."""
    redis = request.app[RUNTIME].redis
    for key in (f"linli:login:user:{username}", f"linli:login:addr:{request.remote or '?'}"):
        if int(await redis.get(key) or 0) >= LOGIN_LIMIT:
            return True
    return False
