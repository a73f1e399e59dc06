"""Store a platform's message before acknowledging it, then queue it for a worker."""

from __future__ import annotations

import logging
import re

from redis.exceptions import RedisError

from bot.events import InboundEvent
from bot.runtime import Runtime
from handlers.group import UNADDRESSED
from storage.base import utcnow
from storage.messages import store_inbound
from storage.queue import enqueue
from storage.residents import get_or_create_conversation

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Replace control characters and lone surrogates that no database or reply should carry."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub(" ", text)


async def accept(runtime: Runtime, event: InboundEvent) -> bool:
    """Persist an inbound message and queue it; False when it was a redelivery."""
    async with runtime.sessions() as session, session.begin():
        conversation = await get_or_create_conversation(
            session,
            event.platform,
            clean_text(event.chat_id),
            clean_text(event.user_id),
            user_name=clean_text(event.user_name) if event.user_name else None,
            is_group=event.is_group,
        )
        message = await store_inbound(
            session,
            conversation_id=conversation.id,
            platform=event.platform,
            platform_msg_id=clean_text(event.message_id),
            text=clean_text(event.text),
        )
        if message is None:
            log.info("redelivery of %s message %s ignored", event.platform, event.message_id)
            return False
        conversation.last_message_at = utcnow()
        if not event.addressed_to_bot:  # parsed, answered only when actionable (handlers.group)
            message.action = UNADDRESSED
        message_id, conversation_id = message.id, conversation.id
    try:
        await enqueue(runtime.redis, message_id, conversation_id)
    except (RedisError, OSError) as exc:
        log.warning(
            "message %s stored but not queued (%s); the sweeper will queue it", message_id, exc
        )
    return True
