"""Conversation review's queries: the message search and a conversation's transcript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.messages import Message
from storage.residents import Conversation
from storage.search import Bounds, id_bounds, plan_each_search, restrict, usable, within


@dataclass(frozen=True)
class MessageFilter:
    """The message search's filters, as parsed from a query string (None: any)."""

    q: str = ""
    platform: str | None = None
    intent: str | None = None
    direction: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    handed_off: bool = False
    cursor: int | None = None
    limit: int = 50


def _like(q: str) -> str:
    """A LIKE pattern matching q anywhere (its own % and _ taken literally)."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(stmt: Select[Any], wanted: MessageFilter) -> Select[Any]:
    """The search's filters other than q: platform, intent, direction, confidence, dates."""
    if wanted.platform:
        stmt = stmt.where(Message.platform == wanted.platform)
    if wanted.intent:
        stmt = stmt.where(Message.intent == wanted.intent)
    if wanted.direction:
        stmt = stmt.where(Message.direction == wanted.direction)
    if wanted.min_confidence is not None:
        stmt = stmt.where(Message.confidence >= wanted.min_confidence)
    if wanted.max_confidence is not None:
        stmt = stmt.where(Message.confidence <= wanted.max_confidence)
    if wanted.since is not None:  # exactly: the id bounds only narrow
        stmt = stmt.where(Message.created_at >= wanted.since)
    if wanted.until is not None:
        stmt = stmt.where(Message.created_at < wanted.until)
    if wanted.handed_off:
        stmt = stmt.join(Conversation, Conversation.id == Message.conversation_id).where(
            Conversation.handed_off.is_(True)
        )
    return stmt


async def search_messages(session: AsyncSession, wanted: MessageFilter) -> Sequence[Message]:
    """Messages matching the filter, newest first (the bigram index for q: storage/search.py)."""
    q, since, until = wanted.q, wanted.since, wanted.until
    stmt, order = _filtered(select(Message), wanted), Message.id
    if q or since is not None or until is not None:
        await plan_each_search(session)
    window: Bounds | None = (None, None)
    if since is not None or until is not None:  # the window as exact id bounds
        window = await id_bounds(session, since, until)
    if window is None:  # no message at all on the window's days
        return []
    if q and usable(q):  # the bigram index: LIKE semantics, folded
        dialect = session.get_bind().dialect.name
        # The bounds go on the index's id only: on messages.id as well, PostgreSQL
        # would count the window twice (ids and dates agree) and sort every match.
        stmt, order = restrict(stmt, q, dialect, Message.id, since, until, window)
    else:
        stmt = within(stmt, Message.id, window)
        if q:  # one character: a scan, bounded by the other filters and the page size
            stmt = stmt.where(Message.text.like(_like(q), escape="\\"))
    if wanted.cursor is not None:
        stmt = stmt.where(order < wanted.cursor)
    return (await session.scalars(stmt.order_by(order.desc()).limit(wanted.limit))).all()


async def transcript_messages(
    session: AsyncSession, conversation_id: int, cursor: int | None, limit: int
) -> Sequence[Message]:
    """A conversation's messages, newest first, below the cursor."""
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if cursor is not None:
        stmt = stmt.where(Message.id < cursor)
    return (await session.scalars(stmt.order_by(Message.id.desc()).limit(limit))).all()
