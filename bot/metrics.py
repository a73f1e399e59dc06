"""GET /metrics (Prometheus): this process's counters, and the backlog read at scrape time.

Each app has its own CollectorRegistry (no global state at import). Backlog gauges (waiting
messages, pending and dead-lettered replies, open tickets by SLA colour, the queue) come
from SQL and Redis when scraped, so every web process reports the same shared truth.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import func, select

from handlers.sla import sla_colour
from storage.messages import FAILED, PENDING, RECEIVED, Message
from storage.queue import GROUP, STREAM
from storage.tickets import OPEN_STATUSES, Ticket

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


async def refresh(runtime: Runtime) -> None:
    """Read the backlog from SQL and Redis into the gauges."""
    metrics = runtime.metrics
    async with runtime.sessions() as session:
        counts = dict(
            (
                await session.execute(
                    select(Message.status, func.count())
                    .where(Message.status.in_((RECEIVED, PENDING, FAILED)))
                    .group_by(Message.status)
                )
            ).all()
        )
        open_tickets = (
            await session.scalars(
                select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).limit(10000)
            )
        ).all()
    metrics.waiting.set(counts.get(RECEIVED, 0))
    metrics.outbox.labels("pending").set(counts.get(PENDING, 0))
    metrics.outbox.labels("dead_letter").set(counts.get(FAILED, 0))
    now = runtime.clock()
    colours = dict.fromkeys(("green", "blue", "yellow", "red"), 0)
    for ticket in open_tickets:
        shade = sla_colour(ticket, now)
        colours[shade] = colours.get(shade, 0) + 1
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
    await refresh(runtime)
    body = generate_latest(runtime.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def register(app: web.Application) -> None:
    """Add GET /metrics (the metrics themselves live in the app's Runtime)."""
    app.router.add_get("/metrics", serve_metrics)
