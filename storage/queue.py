"""The inbound work queue: one Redis stream read through a consumer group."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)

STREAM = "linli:inbound"
GROUP = "workers"


@dataclass(frozen=True)
class Job:
    """A stream entry naming one stored inbound message."""

    entry_id: str
    message_id: int
    conversation_id: int


async def ensure_group(redis: Redis) -> None:
    """Create the stream and consumer group if they do not exist yet."""
    try:
        await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def enqueue(redis: Redis, message_id: int, conversation_id: int) -> str:
    """Append a stored message to the stream and return the entry id."""
    fields = {"m": str(message_id), "c": str(conversation_id)}
    entry = await redis.xadd(STREAM, fields, maxlen=1_000_000, approximate=True)  # type: ignore[arg-type]
    return entry.decode() if isinstance(entry, bytes) else str(entry)


def _jobs(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[Job]:
    jobs = []
    for entry_id, fields in entries:
        if not fields:  # deleted entry still in the pending list
            continue
        jobs.append(
            Job(
                entry_id=entry_id.decode(),
                message_id=int(fields[b"m"]),
                conversation_id=int(fields[b"c"]),
            )
        )
    return jobs


async def read(redis: Redis, consumer: str, count: int, block_ms: int) -> list[Job]:
    """Read new entries for this consumer, waiting up to block_ms."""
    try:
        reply: Any = await redis.xreadgroup(
            GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms
        )
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        log.warning("consumer group missing (Redis restarted?); recreating it")
        await ensure_group(redis)
        return []
    if not reply:
        return []
    return _jobs(reply[0][1])


async def reclaim(redis: Redis, consumer: str, min_idle_ms: int, count: int = 50) -> list[Job]:
    """Take over entries another consumer read but did not acknowledge in time."""
    try:
        reply: Any = await redis.xautoclaim(
            STREAM, GROUP, consumer, min_idle_ms, "0-0", count=count
        )
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        await ensure_group(redis)
        return []
    return _jobs(reply[1])


async def ack(redis: Redis, entry_id: str) -> None:
    """Acknowledge and delete a finished entry."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xack(STREAM, GROUP, entry_id)
        pipe.xdel(STREAM, entry_id)
        await pipe.execute()
