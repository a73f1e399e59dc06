"""Conversation review: search message texts (Chinese, any length) and read a transcript."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import (
    Param,
    Principal,
    choice_param,
    endpoint,
    page,
    page_args,
    path_id,
    principal,
)
from handlers.errors import Invalid
from storage.accounts import audit
from storage.message_search import MessageFilter, transcript_messages
from storage.message_search import search_messages as find_messages
from storage.messages import Message
from storage.privacy import mask_text
from storage.residents import Conversation

REVIEW_ROLES = ("admin", "staff")
ITEM = {
    "id": "integer",
    "conversation_id": "integer",
    "direction": "string",
    "text": "string",
    "intent": "string?",
    "confidence": "number?",
    "action": "string?",
    "created_at": "string",
}


def _float(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Invalid(name, f"{name} must be a number between 0 and 1") from None
    if not 0 <= value <= 1:
        raise Invalid(name, f"{name} must be a number between 0 and 1")
    return value


def _date(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(name, f"{name} must be an ISO 8601 date or time") from None
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))  # residents' local time
    return value


def _item(message: Message, reveal: bool) -> dict[str, Any]:
    text = message.text or ""
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "text": text if reveal else mask_text(text),
        "intent": message.intent,
        "confidence": message.confidence,
        "action": message.action,
        "created_at": message.created_at.isoformat(),
    }


def _masked(value: Any) -> Any:
    """Mask phone and ID numbers in every string of a parse result (numbers stay numbers)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def _reveal(request: web.Request, who: Principal) -> bool:
    wanted = choice_param(request, "reveal", ("true", "false")) == "true"
    if wanted and not who.sees_personal_details:
        raise web.HTTPForbidden(text="your role may not see unmasked texts")
    return wanted


@endpoint(
    "GET",
    "/api/messages",
    "Search messages (newest first); phone and ID numbers masked",
    roles=REVIEW_ROLES,
    item=ITEM,
    paged=True,
    params=(
        Param("q", "text to find (any length, e.g. 路灯)"),
        Param("platform", "generic, wecom or wechat"),
        Param("intent", "NLU intent"),
        Param("min_confidence", "lowest NLU confidence", "number"),
        Param("max_confidence", "highest NLU confidence", "number"),
        Param("direction", "in or out", enum=("in", "out")),
        Param("handed_off", "only conversations handed to staff", "boolean"),
        Param("since", "ISO 8601 (local time if no offset)"),
        Param("until", "ISO 8601"),
        Param("reveal", "unmasked texts (admin/staff; audited)", "boolean"),
    ),
)
async def search_messages(request: web.Request) -> web.Response:
    """GET /api/messages?q=路灯."""
    items, limit = await query_messages(request, principal(request))
    return page(items, limit)


def message_filter(request: web.Request, who: Principal) -> tuple[MessageFilter, bool]:
    """The search's filters and whether to reveal, from the query string (400 naming a bad one)."""
    cursor, limit = page_args(request)
    reveal = _reveal(request, who)
    since, until = _date(request, "since"), _date(request, "until")
    q = request.query.get("q", "").strip()
    if len(q) > 100:
        raise Invalid("q", "q is at most 100 characters")
    wanted = MessageFilter(
        q=q,
        platform=request.query.get("platform") or None,
        intent=request.query.get("intent") or None,
        direction=choice_param(request, "direction", ("in", "out")),
        min_confidence=_float(request, "min_confidence"),
        max_confidence=_float(request, "max_confidence"),
        since=since,
        until=until,
        handed_off=choice_param(request, "handed_off", ("true", "false")) == "true",
        cursor=cursor,
        limit=limit,
    )
    return wanted, reveal


async def query_messages(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """Messages matching the request's filters, masked unless revealed (audited)."""
    runtime = request.app[RUNTIME]
    wanted, reveal = message_filter(request, who)
    async with runtime.sessions() as session, session.begin():
        found = await find_messages(session, wanted)
        if reveal:
            audit(session, who.name, "view_personal", "messages", f"search {wanted.q!r}")
    return [_item(m, reveal) for m in found], wanted.limit


@endpoint(
    "GET",
    "/api/conversations/{id}/messages",
    "A transcript: each message, its NLU and action",
    roles=REVIEW_ROLES,
    item={**ITEM, "nlu": "object?"},
    paged=True,
    params=(Param("reveal", "unmasked texts (admin/staff; audited)", "boolean"),),
)
async def transcript(request: web.Request) -> web.Response:
    """GET /api/conversations/{id}/messages, newest first."""
    items, limit = await query_transcript(request, principal(request))
    return page(items, limit)


async def query_transcript(
    request: web.Request, who: Principal
) -> tuple[list[dict[str, Any]], int]:
    """A conversation's messages with their NLU results, newest first."""
    runtime = request.app[RUNTIME]
    number = path_id(request, "conversation")
    cursor, limit = page_args(request)
    reveal = _reveal(request, who)
    if number is None:
        raise web.HTTPNotFound(text="no such conversation")
    async with runtime.sessions() as session, session.begin():
        if await session.get(Conversation, number) is None:
            raise web.HTTPNotFound(text="no such conversation")
        found = await transcript_messages(session, number, cursor, limit)
        if reveal:
            audit(session, who.name, "view_personal", f"conversation:{number}", "transcript")
    items = []
    for message in found:
        item = _item(message, reveal)
        parsed = json.loads(message.nlu) if message.nlu else None
        item["nlu"] = parsed if reveal or parsed is None else _masked(parsed)
        items.append(item)
    return items, limit
