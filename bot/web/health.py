"""Liveness and readiness: /healthz answers while the process runs; /readyz checks its parts.

/readyz probes the database, Redis and NLU at once (each within 3 s) and keeps the answer for
`http.readiness_cache_seconds`: calls meanwhile, and calls arriving during a probe, share it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.runtime import RUNTIME, SETTINGS
from storage.db import ping

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"ok": True})


async def _check_database(request: web.Request) -> bool:
    await ping(request.app[RUNTIME].engine)
    return True


async def _check_redis(request: web.Request) -> bool:
    return bool(await request.app[RUNTIME].redis.ping())


async def _check_nlu(request: web.Request) -> bool:
    return await request.app[RUNTIME].nlu.ready()


Check = Callable[[web.Request], Awaitable[bool]]
CHECKS: dict[str, Check] = {"database": _check_database, "redis": _check_redis, "nlu": _check_nlu}


async def _probe(request: web.Request, name: str, check: Check) -> bool:
    try:
        return bool(await asyncio.wait_for(check(request), timeout=3))
    except Exception as exc:
        log.info("readiness check %s failed: %s", name, exc)
        return False


@dataclass
class Readiness:
    """The last probe's results and when they were taken (time.monotonic())."""

    results: dict[str, bool] = field(default_factory=dict)
    taken_at: float | None = None
    probing: asyncio.Lock = field(default_factory=asyncio.Lock)


READINESS = web.AppKey("readiness", Readiness)


async def readyz(request: web.Request) -> web.Response:
    """200 only when the database, Redis and NLU all answer; 503 names what does not."""
    readiness = request.app[READINESS]
    seconds = request.app[SETTINGS].file.http.readiness_cache_seconds
    async with readiness.probing:
        taken = readiness.taken_at
        if taken is None or time.monotonic() - taken >= seconds:
            answers = await asyncio.gather(
                *(_probe(request, name, check) for name, check in CHECKS.items())
            )
            readiness.results = dict(zip(CHECKS, answers, strict=True))
            readiness.taken_at = time.monotonic()
        results = dict(readiness.results)
    status = 200 if all(results.values()) else 503
    return web.json_response({"ok": status == 200, "checks": results}, status=status)


def register(app: web.Application) -> None:
    """Add the health routes (public: they reveal nothing personal)."""
    app[READINESS] = Readiness()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
