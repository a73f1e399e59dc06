"""GET /metrics (Prometheus): this process's counters, and the backlog read at scrape time.

Each app has its own CollectorRegistry (no global state at import). Backlog gauges (waiting
messages, pending and dead-lettered replies, open tickets by SLA colour, the queue) come
from SQL and Redis, so every web process reports the same shared truth. They are counted
in SQL (GROUP BY, no rows loaded) and read at most once per `http.metrics_cache_seconds`
per process, however many scrapes arrive; with LINLI_METRICS_TOKEN set a scrape must
bring it as a bearer token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bot.responses import error
from handlers.sla import colour_case
from storage.messages import FAILED, PENDING, RECEIVED, count_by_status
from storage.queue import GROUP, STREAM
from storage.tickets import count_open_by

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


class Metrics:
    """The metrics of one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.processed = Counter(
            "linli_messages_processed", "Inbound messages handled, by outcome", ["outcome"],
            registry=r,
        )  # fmt: skip
        self.nlu_seconds = Histogram(
            "linli_nlu_parse_seconds", "Time of one NLU parse (normalise + Rasa)", registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )  # fmt: skip
        self.parse_cache_hits = Counter(
            "linli_nlu_cache_hits", "Parses answered from the short-lived cache", registry=r
        )
        self.turn_seconds = Histogram(
            "linli_turn_seconds", "Time from a message's arrival to its replies being committed",
            registry=r, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
        )  # fmt: skip
        self.waiting = Gauge(
            "linli_inbound_waiting", "Messages stored, not yet answered", registry=r
        )
        self.outbox = Gauge("linli_outbox", "Replies by delivery state", ["state"], registry=r)
        self.tickets = Gauge(
            "linli_tickets_open", "Open tickets by SLA colour", ["colour"], registry=r
        )
        self.stream = Gauge("linli_queue_length", "Entries in the inbound stream", registry=r)
        self.stream_pending = Gauge(
            "linli_queue_unacknowledged", "Entries read but not acknowledged", registry=r
        )
        self.refreshed_at: float | None = None  # time.monotonic() of the last backlog read
        self.refreshing = asyncio.Lock()  # one backlog read at a time; others wait for it


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
    from bot.runtime import RUNTIME

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
