"""Liveness and readiness: /healthz answers while the process runs; /readyz checks its parts."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from bot.runtime import RUNTIME

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"ok": True})


async def _check_database(request: web.Request) -> bool:
    runtime = request.app[RUNTIME]
    async with runtime.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return True


async def _check_redis(request: web.Request) -> bool:
    return bool(await request.app[RUNTIME].redis.ping())


async def _check_nlu(request: web.Request) -> bool:
    return await request.app[RUNTIME].nlu.ready()


async def readyz(request: web.Request) -> web.Response:
    """200 only when the database, Redis and NLU all answer; 503 names what does not."""
    checks = {"database": _check_database, "redis": _check_redis, "nlu": _check_nlu}
    results: dict[str, bool] = {}
    for name, check in checks.items():
        try:
            results[name] = bool(await asyncio.wait_for(check(request), timeout=3))
        except Exception as exc:
            log.info("readiness check %s failed: %s", name, exc)
            results[name] = False
    status = 200 if all(results.values()) else 503
    return web.json_response({"ok": status == 200, "checks": results}, status=status)


def register(app: web.Application) -> None:
    """Add the health routes (public: they reveal nothing personal)."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
