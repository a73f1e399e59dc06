"""Conversation review: search message texts (Chinese, any length) and read a transcript."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import Select, select

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
from storage.accounts import audit
from storage.messages import Message
from storage.privacy import mask_text
from storage.residents import Conversation
from storage.search import Bounds, id_bounds, plan_each_search, restrict, usable, within

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
        raise web.HTTPBadRequest(text=f"{name} must be a number between 0 and 1") from None
    if not 0 <= value <= 1:
        raise web.HTTPBadRequest(text=f"{name} must be a number between 0 and 1")
    return value


def _date(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an ISO 8601 date or time") from None
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))  # residents' local time
    return value


def _like(q: str) -> str:
    """A LIKE pattern matching q anywhere (its own % and _ taken literally)."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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


async def query_messages(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """Messages matching the request's filters, masked unless revealed (audited)."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    reveal = _reveal(request, who)
    since, until = _date(request, "since"), _date(request, "until")
    q = request.query.get("q", "").strip()
    if len(q) > 100:
        raise web.HTTPBadRequest(text="q is at most 100 characters")
    stmt, order = _filtered(request, select(Message), since, until), Message.id
    async with runtime.sessions() as session, session.begin():
        if q or since is not None or until is not None:
            await plan_each_search(session)
        window: Bounds | None = (None, None)
        if since is not None or until is not None:  # the window as exact id bounds
            window = await id_bounds(session, since, until)
        found: Sequence[Message] = []
        if window is not None:  # None: no message at all on the window's days
            if q and usable(q):  # the bigram index (storage/search.py): LIKE semantics, folded
                dialect = runtime.engine.dialect.name
                # The bounds go on the index's id only: on messages.id as well, PostgreSQL
                # would count the window twice (ids and dates agree) and sort every match.
                stmt, order = restrict(stmt, q, dialect, Message.id, since, until, window)
            else:
                stmt = within(stmt, Message.id, window)
                if q:  # one character: a scan, bounded by the other filters and the page size
                    stmt = stmt.where(Message.text.like(_like(q), escape="\\"))
            if cursor is not None:
                stmt = stmt.where(order < cursor)
            found = (await session.scalars(stmt.order_by(order.desc()).limit(limit))).all()
        if reveal:
            audit(session, who.name, "view_personal", "messages", f"search {q!r}")
    return [_item(m, reveal) for m in found], limit


def _filtered(
    request: web.Request, stmt: Select[Any], since: datetime | None, until: datetime | None
) -> Select[Any]:
    """The search's filters other than q: platform, intent, direction, confidence, dates."""
    for name, column in (("platform", Message.platform), ("intent", Message.intent)):
        if value := request.query.get(name):
            stmt = stmt.where(column == value)
    if direction := choice_param(request, "direction", ("in", "out")):
        stmt = stmt.where(Message.direction == direction)
    if (low := _float(request, "min_confidence")) is not None:
        stmt = stmt.where(Message.confidence >= low)
    if (high := _float(request, "max_confidence")) is not None:
        stmt = stmt.where(Message.confidence <= high)
    if since is not None:  # exactly: the id bounds only narrow
        stmt = stmt.where(Message.created_at >= since)
    if until is not None:
        stmt = stmt.where(Message.created_at < until)
    if choice_param(request, "handed_off", ("true", "false")) == "true":
        stmt = stmt.join(Conversation, Conversation.id == Message.conversation_id).where(
            Conversation.handed_off.is_(True)
        )
    return stmt


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
    stmt = select(Message).where(Message.conversation_id == number)
    if cursor is not None:
        stmt = stmt.where(Message.id < cursor)
    async with runtime.sessions() as session, session.begin():
        if await session.get(Conversation, number) is None:
            raise web.HTTPNotFound(text="no such conversation")
        found = (await session.scalars(stmt.order_by(Message.id.desc()).limit(limit))).all()
        if reveal:
            audit(session, who.name, "view_personal", f"conversation:{number}", "transcript")
    items = []
    for message in found:
        item = _item(message, reveal)
        parsed = json.loads(message.nlu) if message.nlu else None
        item["nlu"] = parsed if reveal or parsed is None else _masked(parsed)
        items.append(item)
    return items, limit
