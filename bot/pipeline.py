"""Process a conversation's stored messages in order: NLU, dialogue, effects and replies."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.context import Context
from handlers.dialogue import answers_without_nlu
from handlers.dispatch import respond
from handlers.handoff import hand_over
from nlu.client import Entity, NLUUnavailable, ParseResult
from nlu.normalize import normalize
from storage.base import utcnow
from storage.community import worker_by_identity
from storage.messages import RECEIVED, Message, claim_for_processing, record_outbound
from storage.parse_cache import cached_parse, remember_parse
from storage.residents import Conversation, Resident
from storage.state import load_state, save_state

log = logging.getLogger(__name__)
SORRY = "抱歉，系统刚才出了点问题，您的消息已经记下了，工作人员会跟进。您也可以稍后再试。"


async def process_conversation(runtime: Runtime, conversation_id: int) -> bool:
    """Process every waiting message of a conversation, oldest first; False if NLU is down."""
    async with runtime.sessions() as session:
        ids = (
            await session.scalars(
                select(Message.id)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.status == RECEIVED,
                    Message.direction == "in",
                )
                .order_by(Message.id)
            )
        ).all()
    for message_id in ids:
        if not await process_message(runtime, message_id):
            return False
    return True


async def _parse(runtime: Runtime, text: str, state: dict[str, object]) -> ParseResult | None:
    """Normalise, parse, and give entity offsets back in the resident's original text."""
    if not text.strip() or answers_without_nlu(text, state, runtime.registry.command_verbs()):
        return None
    limit = runtime.settings.file.http.max_text_chars
    norm = normalize(text[:limit])
    if not norm.text:
        return None
    seconds = runtime.settings.file.dialogue.parse_cache_seconds
    hit = await cached_parse(runtime.redis, norm.text) if seconds else None
    if hit is not None:
        parsed = ParseResult.from_dict(hit)
        runtime.metrics.parse_cache_hits.inc()
    else:
        with runtime.metrics.nlu_seconds.time():
            parsed = await runtime.nlu.parse(norm.text)
        await remember_parse(runtime.redis, norm.text, parsed.to_dict(), seconds)
    entities = []
    for ent in parsed.entities:
        start, end = norm.to_original(ent.start, ent.end)
        entities.append(Entity(ent.entity, ent.value, start, end))
    return replace(parsed, text=text[:limit], normalized=norm.text, entities=tuple(entities))


async def _hand_over_after_error(ctx: Context) -> None:
    """A handler crashed: apologise, and put a person on the conversation (staff told)."""
    try:
        async with ctx.session.begin_nested():
            await hand_over(ctx, "系统处理出错，请人工跟进", answer=SORRY)
    except Exception:
        log.exception("could not hand conversation %s to staff", ctx.conversation.id)
        ctx.conversation.handed_off = True
    ctx.replies, ctx.action = [SORRY], "error"


async def process_message(runtime: Runtime, message_id: int) -> bool:
    """Handle one inbound message exactly once; False (nothing done) when NLU is unreachable."""
    async with runtime.sessions() as session:
        message = await session.get(Message, message_id)
        if message is None or message.status != RECEIVED:
            return True
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        text = message.text or ""
    state = await load_state(runtime.redis, conversation.id, message_id)
    if conversation.handed_off:
        text_for_nlu = ""  # a person has taken over: the bot stays quiet, no parse needed
    else:
        text_for_nlu = text
    try:
        parse = await _parse(runtime, text_for_nlu, state)
    except NLUUnavailable as exc:
        log.warning("NLU unavailable for message %s: %s; it will wait", message_id, exc)
        return False
    async with runtime.sessions() as session, session.begin():
        if not await claim_for_processing(session, message_id):
            return True  # another worker finished it meanwhile
        conversation = await session.get(Conversation, conversation.id, with_for_update=False)
        resident = await session.get(Resident, conversation.resident_id) if conversation else None
        assert conversation is not None and resident is not None
        worker = await worker_by_identity(session, conversation.platform, conversation.user_id)
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
        inbound = await session.get(Message, message_id)
        assert inbound is not None
        if parse is not None:
            inbound.intent, inbound.confidence = parse.intent, parse.confidence
            inbound.nlu = json.dumps(parse.to_dict(), ensure_ascii=False)
        inbound.action = ctx.action
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
        arrived = inbound.created_at
        ttl = runtime.settings.file.dialogue.state_ttl_minutes * 60
        await save_state(runtime.redis, conversation.id, message_id, state, ctx.state, ttl)
    runtime.metrics.turn_seconds.observe(max(0.0, (utcnow() - arrived).total_seconds()))
    runtime.outbox_wake.set()
    return True
