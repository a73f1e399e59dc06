"""Per-conversation dialogue state in Redis, written so a replayed message sees the old state."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis


def state_key(conversation_id: int) -> str:
    """Redis key of a conversation's state (hash-tagged so one conversation stays in one slot)."""
    return f"linli:conv:{{{conversation_id}}}:state"


def lock_key(conversation_id: int) -> str:
    """Redis key of the lock that serialises a conversation's messages."""
    return f"linli:conv:{{{conversation_id}}}:lock"


async def load_state(redis: Redis, conversation_id: int, message_id: int) -> dict[str, Any]:
    """Return the state to process a message with (the pre-message state on a replay)."""
    raw = await redis.get(state_key(conversation_id))
    if not raw:
        return {}
    record = json.loads(raw)
    if record.get("for") == message_id:
        return dict(record.get("before") or {})
    return dict(record.get("state") or {})


async def save_state(
    redis: Redis,
    conversation_id: int,
    message_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    ttl_seconds: int,
) -> None:
    """Store the state after a message, keeping the state before it for a replay."""
    record = {"for": message_id, "before": before, "state": after}
    await redis.set(
        state_key(conversation_id), json.dumps(record, ensure_ascii=False), ex=ttl_seconds
    )
