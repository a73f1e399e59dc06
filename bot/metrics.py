"""The Prometheus metrics of one process: counters the pipeline updates, gauges for the backlog.

Each Runtime has its own CollectorRegistry (no global state at import); GET /metrics
(bot/web/metrics.py) fills the backlog gauges when scraped and serves the registry.
"""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector


class Metrics:
    """The metrics of one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.processed = Counter(
            "linli_messages_processed",
            "Inbound messages handled, by outcome",
            ["outcome"],
            registry=r,
        )
        self.nlu_seconds = Histogram(
            "linli_nlu_parse_seconds",
            "Time of one NLU parse (normalise + Rasa)",
            registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.parse_cache_hits = Counter(
            "linli_nlu_cache_hits", "Parses answered from the short-lived cache", registry=r
        )
        self.turn_seconds = Histogram(
            "linli_turn_seconds",
            "Time from a message's arrival to its replies being committed",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
        )
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
