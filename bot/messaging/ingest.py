"""Store a platform's message before acknowledging it, then queue it for the consumer."""

from __future__ import annotations

import logging
import re

from redis.exceptions import RedisError

from bot.connectors.base import InboundEvent
from bot.runtime import Runtime
from handlers.group import UNADDRESSED
from storage.base import utcnow
from storage.messages import insert_inbound
from storage.queue import enqueue
from storage.residents import get_or_create_conversation, touch_conversation

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Replace control characters and lone surrogates that no database or reply should carry."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub(" ", text)


async def accept(runtime: Runtime, event: InboundEvent) -> bool:
    """Persist an inbound message and queue it; False when it was a redelivery.

    A known conversation costs two statements: UPDATE … RETURNING its id, and
    INSERT … ON CONFLICT DO NOTHING RETURNING the message id (no savepoint, no SELECT).
    """
    try:
        conversation_id, message_id = await _store(runtime, event)
    except _Redelivery:
        log.info("redelivery of %s message %r ignored", event.platform, event.message_id)
        return False
    try:
        await enqueue(runtime.redis, message_id, conversation_id)
    except (RedisError, OSError) as exc:
        log.warning(
            "message %s stored but not queued (%s); the sweeper will queue it", message_id, exc
        )
    return True


class _Redelivery(Exception):
    """The platform sent a message id it had sent before: roll back, store nothing."""


def cut_text(text: str, limit: int) -> str:
    """The message as stored and handled: at most `limit` characters (http.max_text_chars)."""
    if len(text) > limit:
        log.info("message text of %d characters cut to %d", len(text), limit)
    return text[:limit]


async def _store(runtime: Runtime, event: InboundEvent) -> tuple[int, int]:
    """Store the message (and a new conversation); (conversation id, message id).

    The text is cut to http.max_text_chars here, once, before anything reads it: what is
    stored is what the handlers, the NLU, search, the console and the API see.
    """
    platform, chat_id, user_id = (
        event.platform,
        clean_text(event.chat_id),
        clean_text(event.user_id),
    )
    text = clean_text(cut_text(event.text, runtime.settings.file.http.max_text_chars))
    async with runtime.sessions() as session, session.begin():
        conversation_id = await touch_conversation(session, platform, chat_id, user_id)
        if conversation_id is None:
            conversation = await get_or_create_conversation(
                session,
                platform,
                chat_id,
                user_id,
                user_name=clean_text(event.user_name) if event.user_name else None,
                is_group=event.is_group,
                last_message_at=utcnow(),
            )
            conversation_id = conversation.id
        message_id = await insert_inbound(
            session,
            conversation_id=conversation_id,
            platform=platform,
            platform_msg_id=clean_text(event.message_id),
            text=text,
            # parsed, answered only when actionable (handlers.group)
            action=None if event.addressed_to_bot else UNADDRESSED,
        )
        if message_id is None:
            raise _Redelivery
    return conversation_id, message_id
