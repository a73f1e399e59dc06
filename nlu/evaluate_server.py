"""Held-out readings by the running Rasa server, through the product's path (nlu/understand.py).

`linli nlu evaluate` scores the tuned model's held-out set this way, so intents and entities
are scored exactly as the message pipeline and `linli nlu predict` read them.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from nlu.client import FALLBACK_INTENT, NLUClient, ParseResult
from nlu.understand import understand

CONCURRENCY = 4


async def read_all(urls: Sequence[str], texts: Sequence[str]) -> list[ParseResult]:
    """Read texts through the given servers with understand(), a few at a time, in order."""
    limit = asyncio.Semaphore(CONCURRENCY)
    async with NLUClient(list(urls), timeout=30.0) as client:

        async def one(text: str) -> ParseResult:
            async with limit:  # the product's own path: normalise, parse, map, grow places
                read = await understand(client.parse, text)
                return read or ParseResult(text=text, intent=FALLBACK_INTENT, confidence=0.0)

        return list(await asyncio.gather(*(one(t) for t in texts)))


def served_model(url: str) -> str:
    """The model file a Rasa server says it serves (its /status), or "" when it says none."""
    with urllib.request.urlopen(f"{url}/status", timeout=5.0) as resp:
        body = json.loads(resp.read().decode("utf-8"))
    return str(body.get("model_file") or "") if isinstance(body, dict) else ""


@dataclass
class ServerReader:
    """Reads held-out texts with the running server's model through nlu/understand.py."""

    urls: list[str]
    model_file: str

    def fingerprint(self) -> str:
        """What decides the readings besides the code: the served model."""
        return f"server reading, model {self.model_file}"

    def __call__(self, texts: Sequence[str]) -> list[ParseResult]:
        """Read every text (blocking; call from synchronous code)."""
        return asyncio.run(read_all(self.urls, texts))
