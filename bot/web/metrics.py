"""GET /metrics (Prometheus): this process's counters, and the backlog read at scrape time.

Backlog gauges (waiting messages, pending and dead-lettered replies, open tickets by SLA
colour, the queue) come from SQL and Redis, so every web process reports the same shared
truth. They are counted in SQL (GROUP BY, no rows loaded) and read at most once per
`http.metrics_cache_seconds` per process, however many scrapes arrive; with
LINLI_METRICS_TOKEN set a scrape must bring it as a bearer token. The metrics themselves
are defined in bot/metrics.py.
"""

from __future__ import annotations

import hmac
import logging
import time

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.responses import error
from bot.runtime import RUNTIME, Runtime
from handlers.sla import colour_case
from storage.messages import FAILED, PENDING, RECEIVED, count_by_status
from storage.queue import GROUP, STREAM
from storage.tickets import count_open_by

log = logging.getLogger(__name__)


async def refresh_if_stale(runtime: Runtime) -> None:
    """Read the backlog unless it was read within http.metrics_cache_seconds."""
    metrics, seconds = runtime.metrics, runtime.settings.file.http.metrics_cache_seconds
    async with metrics.refreshing:
        last = metrics.refreshed_at
        if last is not None and time.monotonic() - last < seconds:
            return
        await refresh(runtime)
        metrics.refreshed_at = time.monotonic()


async def refresh(runtime: Runtime) -> None:
    """Read the backlog from SQL and Redis into the gauges."""
    metrics = runtime.metrics
    async with runtime.sessions() as session:
        counts = await count_by_status(session, (RECEIVED, PENDING, FAILED))
        by_colour = await count_open_by(session, colour_case(runtime.clock()))
    metrics.waiting.set(counts.get(RECEIVED, 0))
    metrics.outbox.labels("pending").set(counts.get(PENDING, 0))
    metrics.outbox.labels("dead_letter").set(counts.get(FAILED, 0))
    colours = dict.fromkeys(("green", "blue", "yellow", "red"), 0) | by_colour
    for colour, n in colours.items():
        metrics.tickets.labels(colour).set(n)
    try:
        metrics.stream.set(await runtime.redis.xlen(STREAM))
        pending = await runtime.redis.xpending(STREAM, GROUP)
        metrics.stream_pending.set(int(pending.get("pending", 0)) if pending else 0)
    except Exception as exc:  # Redis down: the SQL figures still tell the story
        log.warning("metrics: Redis unreadable: %s", exc)


async def serve_metrics(request: web.Request) -> web.Response:
    """GET /metrics in the Prometheus text format."""
    runtime = request.app[RUNTIME]
    token = runtime.settings.metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return error(401, "unauthorized", "GET /metrics needs LINLI_METRICS_TOKEN")
    await refresh_if_stale(runtime)
    body = generate_latest(runtime.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def register(app: web.Application) -> None:
    """Add GET /metrics (the metrics themselves live in the app's Runtime)."""
    app.router.add_get("/metrics", serve_metrics)
