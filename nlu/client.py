"""Async client for one or more Rasa NLU servers (`POST /model/parse`)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
RETRIEVAL_INTENTS = ("faq",)


@dataclass(frozen=True)
class Entity:
    """An entity with character offsets into the text that was parsed."""

    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class ParseResult:
    """The NLU reading of one message; FAQ intents carry their full name (faq/<key>)."""

    text: str
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    ranking: tuple[tuple[str, float], ...] = ()
    normalized: str | None = None  # the text NLU saw, when it differs from `text`

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: text, intent, confidence, entities, ranking."""
        extra = {"normalized": self.normalized} if self.normalized is not None else {}
        return {
            **extra,
            "text": self.text,
            "intent": self.intent,
            "confidence": float(self.confidence),
            "entities": [
                {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end}
                for e in self.entities
            ],
            "ranking": [[name, float(conf)] for name, conf in self.ranking],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseResult:
        """Rebuild a result from to_dict() (the parse cache)."""
        return cls(
            text=str(data["text"]),
            intent=str(data["intent"]),
            confidence=float(data["confidence"]),
            entities=tuple(
                Entity(str(e["entity"]), str(e["value"]), int(e["start"]), int(e["end"]))
                for e in data.get("entities", [])
            ),
            ranking=tuple((str(n), float(c)) for n, c in data.get("ranking", [])),
            normalized=data.get("normalized"),
        )

    @classmethod
    def from_rasa(cls, text: str, data: dict[str, Any]) -> ParseResult:
        """Build a result from Rasa's /model/parse answer."""
        intent_data = data.get("intent") or {}
        name = intent_data.get("name") or FALLBACK_INTENT
        confidence = float(intent_data.get("confidence") or 0.0)
        selector = data.get("response_selector") or {}
        full_names: dict[str, str] = {}
        for retrieval in RETRIEVAL_INTENTS:
            full = _full_retrieval_name(retrieval, intent_data, selector)
            if full:
                full_names[retrieval] = full
        name = full_names.get(name, name)
        ranking = tuple(
            (
                str(r.get("full_retrieval_intent_name") or full_names.get(r["name"], r["name"])),
                float(r.get("confidence") or 0.0),
            )
            for r in data.get("intent_ranking") or ()
            if r.get("name")
        )
        entities = tuple(
            Entity(
                entity=str(e["entity"]),
                value=str(e.get("value", text[e["start"] : e["end"]])),
                start=int(e["start"]),
                end=int(e["end"]),
            )
            for e in data.get("entities") or ()
            if "entity" in e and "start" in e and "end" in e
        )
        return cls(
            text=text, intent=name, confidence=confidence, entities=entities, ranking=ranking
        )


def _full_retrieval_name(
    retrieval: str, intent_data: dict[str, Any], selector: dict[str, Any]
) -> str | None:
    """Return e.g. 'faq/home_care_eligibility' for a retrieval intent, if Rasa gave one."""
    if intent_data.get("name") == retrieval and intent_data.get("full_retrieval_intent_name"):
        return str(intent_data["full_retrieval_intent_name"])
    sel = selector.get(retrieval) or {}
    key = (sel.get("response") or {}).get("intent_response_key")
    if not key and sel.get("ranking"):
        key = sel["ranking"][0].get("intent_response_key")
    return str(key) if key else None


class NLUUnavailable(Exception):
    """No NLU server could answer (connection error, timeout, 5xx, circuit open)."""


class _Breaker:
    """Per-URL circuit breaker: opens after `threshold` consecutive failures for `cooldown` s."""

    def __init__(self, threshold: int, cooldown: float) -> None:
        """Start closed."""
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.open_until = 0.0

    def is_open(self, now: float | None = None) -> bool:
        """Return True while the breaker rejects calls (half-open once cool-down passed)."""
        return (time.monotonic() if now is None else now) < self.open_until

    def success(self) -> None:
        """Record a success: close the breaker."""
        self.failures = 0
        self.open_until = 0.0

    def failure(self) -> None:
        """Record a failure; open the breaker when the threshold is reached."""
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = time.monotonic() + self.cooldown


class NLUClient:
    """Round-robin client over Rasa replicas, with one retry and per-URL circuit breakers."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout: float = 10.0,
        failure_threshold: int = 3,
        cooldown: float = 15.0,
        max_connections: int = 32,
    ) -> None:
        """Remember the server URLs; no I/O happens before start()."""
        if isinstance(urls, str):
            urls = [u for u in urls.split(",") if u.strip()]
        self.urls = [u.strip().rstrip("/") for u in urls]
        if not self.urls:
            raise ValueError("NLUClient needs at least one URL")
        self.timeout = timeout
        self.max_connections = max_connections
        self.breakers = {u: _Breaker(failure_threshold, cooldown) for u in self.urls}
        self._rr = itertools.cycle(range(len(self.urls)))
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Create the pooled HTTP session (idempotent)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> NLUClient:
        """Start the client."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the client."""
        await self.close()

    async def _started(self) -> aiohttp.ClientSession:
        """The HTTP session, created if there is none yet."""
        await self.start()
        if self._session is None:
            raise NLUUnavailable("the NLU client has no HTTP session")
        return self._session

    def _candidates(self) -> list[str]:
        """Return up to two URLs to try: round-robin order, closed breakers first."""
        first = next(self._rr)
        ordered = self.urls[first:] + self.urls[:first]
        closed = [u for u in ordered if not self.breakers[u].is_open()]
        return closed[:2]

    async def parse(self, text: str) -> ParseResult:
        """Parse one message; raise NLUUnavailable when no replica answers."""
        await self._started()
        candidates = self._candidates()
        if not candidates:
            raise NLUUnavailable(f"all NLU servers are failing: {', '.join(self.urls)}")
        errors: list[str] = []
        for url in candidates:
            try:
                data = await self._post_parse(url, text)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                self.breakers[url].failure()
                errors.append(f"{url}: {type(exc).__name__}: {exc}")
                logger.warning("NLU server %s failed: %s", url, exc)
                continue
            self.breakers[url].success()
            return ParseResult.from_rasa(text, data)
        raise NLUUnavailable("; ".join(errors))

    async def _post_parse(self, url: str, text: str) -> dict[str, Any]:
        """POST /model/parse to one server and return its JSON answer."""
        if self._session is None:
            raise NLUUnavailable("the NLU client is closed")
        async with self._session.post(f"{url}/model/parse", json={"text": text}) as resp:
            if resp.status != 200:
                body = (await resp.text())[:200]
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status, message=body
                )
            data = await resp.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError(f"unexpected answer from {url}: {data!r:.200}")
        return data

    async def ready(self) -> bool:
        """Return True when at least one server answers /status with a loaded model."""
        session = await self._started()
        timeout = aiohttp.ClientTimeout(total=min(self.timeout, 3.0))

        async def one(url: str) -> bool:
            try:
                async with session.get(f"{url}/status", timeout=timeout) as resp:
                    if resp.status != 200:
                        return False
                    body = await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                return False
            return isinstance(body, dict) and bool(body.get("model_file") or body.get("model_id"))

        results = await asyncio.gather(*(one(u) for u in self.urls))
        return any(results)
