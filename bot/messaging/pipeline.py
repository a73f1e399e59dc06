"""Process a conversation's stored messages in order: NLU, dialogue, effects and replies."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from handlers.context import Context
from handlers.dialogue import answers_without_nlu
from handlers.handoff import hand_over
from handlers.router import respond
from nlu.client import NLUUnavailable, ParseResult
from nlu.normalize import normalize
from nlu.understand import reading
from storage.base import utcnow
from storage.community import Worker
from storage.db import read_only
from storage.messages import (
    RECEIVED,
    Message,
    claim_for_processing,
    first_outbound_ids,
    record_outbound,
)
from storage.parse_cache import cached_parse, remember_parse
from storage.residents import Conversation, Resident
from storage.state import load_state, save_state

log = logging.getLogger(__name__)
SORRY = "抱歉，系统刚才出了点问题，您的消息已经记下了，工作人员会跟进。您也可以稍后再试。"


def _waiting(*where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """Inbound messages with what processing needs first: text, arrival, the handoff flag."""
    return (
        select(
            Message.id,
            Message.status,
            Message.text,
            Message.created_at,
            Conversation.id.label("conversation_id"),
            Conversation.handed_off,
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*where)
        .order_by(Message.id)
    )


async def process_conversation(
    runtime: Runtime, conversation_id: int, keep_going: Callable[[], bool] = lambda: True
) -> bool:
    """Process every waiting message of a conversation, oldest first; True once all are done.

    False when NLU is down, or when `keep_going` (asked before each message) says to stop:
    the lock was lost or the consumer is stopping. The rest waits for the lock's next holder.
    """
    async with runtime.sessions() as session:
        await read_only(session)
        rows = (
            await session.execute(
                _waiting(
                    Message.conversation_id == conversation_id,
                    Message.status == RECEIVED,
                    Message.direction == "in",
                )
            )
        ).all()
    for index, row in enumerate(rows):
        if not keep_going():
            return False
        # the first is as just read; a later one is read again (the one before may have
        # handed the conversation over, or staff may have released it meanwhile)
        if not await (_process(runtime, row) if index == 0 else process_message(runtime, row.id)):
            return False
    return True


async def _parse(
    runtime: Runtime, text: str, state: dict[str, object]
) -> tuple[ParseResult | None, bool]:
    """Normalise, parse (or reuse a cached parse: True), give offsets in the original text."""
    if not text.strip() or answers_without_nlu(text, state, runtime.registry.command_verbs()):
        return None, False
    norm = normalize(text)
    if not norm.text:
        return None, False
    seconds = runtime.settings.file.dialogue.parse_cache_seconds
    hit = await cached_parse(runtime.redis, norm.text) if seconds else None
    if hit is not None:
        parsed = ParseResult.from_dict(hit)
        runtime.metrics.parse_cache_hits.inc()
    else:
        with runtime.metrics.nlu_seconds.time():
            parsed = await runtime.nlu.parse(norm.text)
        await remember_parse(runtime.redis, norm.text, parsed.to_dict(), seconds)
    parsed = reading(text, norm, parsed)
    return parsed, hit is not None


async def _hand_over_after_error(ctx: Context) -> None:
    """A handler crashed: apologise, and put a person on the conversation (staff told)."""
    try:
        async with ctx.session.begin_nested():
            await hand_over(ctx, "系统处理出错，请人工跟进", answer=SORRY)
    except Exception:
        log.exception("could not hand conversation %s to staff", ctx.conversation.id)
        ctx.conversation.handed_off = True
    ctx.replies, ctx.action = [SORRY], "error"


async def _participants(
    session: AsyncSession, conversation_id: int
) -> tuple[Conversation, Resident, Worker | None]:
    """The conversation, its resident and (if the sender is one) the worker, in one query."""
    stmt = (
        select(Conversation, Resident, Worker)
        .join(Resident, Resident.id == Conversation.resident_id)
        .outerjoin(
            Worker,
            and_(
                Worker.platform == Conversation.platform,
                Worker.platform_user_id == Conversation.user_id,
            ),
        )
        .where(Conversation.id == conversation_id)
        .order_by(Worker.id)
        .limit(1)
    )
    conversation, resident, worker = (await session.execute(stmt)).one()
    return conversation, resident, worker


async def process_message(runtime: Runtime, message_id: int) -> bool:
    """Handle one inbound message exactly once; False (nothing done) when NLU is unreachable."""
    async with runtime.sessions() as session:
        await read_only(session)
        row = (await session.execute(_waiting(Message.id == message_id))).first()
    return True if row is None else await _process(runtime, row)


async def _process(runtime: Runtime, row: Row[Any]) -> bool:
    """Handle the message of a _waiting() row: parse outside, effects in one transaction."""
    message_id, conversation_id = row.id, row.conversation_id
    if row.status != RECEIVED:
        return True
    # stored already cut (bot/messaging/ingest.py); cut again for messages stored before that was so
    text, arrived = (row.text or "")[: runtime.settings.file.http.max_text_chars], row.created_at
    state = await load_state(runtime.redis, conversation_id, message_id)
    if row.handed_off:
        text_for_nlu = ""  # a person has taken over: the bot stays quiet, no parse needed
    else:
        text_for_nlu = text
    try:
        parse, from_cache = await _parse(runtime, text_for_nlu, state)
    except NLUUnavailable as exc:
        log.warning("NLU unavailable for message %s: %s; it will wait", message_id, exc)
        return False
    async with runtime.sessions() as session, session.begin():
        if not await claim_for_processing(session, message_id):
            return True  # another consumer finished it meanwhile
        conversation, resident, worker = await _participants(session, conversation_id)
        ctx = Context(
            session=session,
            services=runtime.services,
            conversation=conversation,
            resident=resident,
            message_id=message_id,
            text=text,
            parse=parse,
            now=runtime.clock(),
            state=dict(state),
            worker=worker,
        )
        try:
            async with session.begin_nested():
                await respond(ctx, runtime.registry)
        except Exception:
            log.exception(
                "handler failed on message %s (conversation %s)", message_id, conversation.id
            )
            ctx.replies, ctx.action, ctx.state = [], "error", {}
            await _hand_over_after_error(ctx)
        result: dict[str, object] = {"action": ctx.action}
        if parse is not None:
            reading = {**parse.to_dict(), **({"cache": True} if from_cache else {})}
            result.update(
                intent=parse.intent,
                confidence=parse.confidence,
                nlu=json.dumps(reading, ensure_ascii=False),  # cache: Rasa was not asked
            )
        await session.execute(update(Message).where(Message.id == message_id).values(**result))
        for reply in ctx.replies:
            record_outbound(
                session,
                conversation_id=conversation.id,
                platform=conversation.platform,
                text=reply,
                reply_to_id=message_id,
                action=ctx.action,
            )
        outcome = "error" if ctx.action == "error" else ("answered" if ctx.replies else "quiet")
        runtime.metrics.processed.labels(outcome).inc()
        ttl = runtime.settings.file.dialogue.state_ttl_minutes * 60
        await save_state(runtime.redis, conversation.id, message_id, state, ctx.state, ttl)
        await session.flush()
        replies = first_outbound_ids(session)
    runtime.metrics.turn_seconds.observe(max(0.0, (utcnow() - arrived).total_seconds()))
    # after a handler crash some recorded replies were rolled back: look through the outbox
    runtime.wake_outbox(None if ctx.action == "error" else replies)
    return True
