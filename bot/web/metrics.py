"""GET /metrics (Prometheus): this process's counters, and the backlog read at scrape time.

Backlog gauges (waiting messages, pending and dead-lettered replies, open tickets by SLA
colour, the queue) come from SQL and Redis when scraped, so every web process reports the
same shared truth. The metrics themselves are defined in bot/metrics.py.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from bot.runtime import RUNTIME, Runtime
from handlers.sla import sla_colour
from storage.messages import FAILED, PENDING, RECEIVED, Message
from storage.queue import GROUP, STREAM
from storage.tickets import OPEN_STATUSES, Ticket

log = logging.getLogger(__name__)


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
    runtime = request.app[RUNTIME]
    await refresh(runtime)
    body = generate_latest(runtime.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def register(app: web.Application) -> None:
    """Add GET /metrics (the metrics themselves live in the app's Runtime)."""
    app.router.add_get("/metrics", serve_metrics)
