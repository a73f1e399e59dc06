"""Pushes: messages the bot starts itself (to a worker, a partner unit, another resident)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.community import PartnerUnit, Worker
from storage.messages import Message, record_outbound
from storage.residents import Resident, get_or_create_conversation

log = logging.getLogger(__name__)


async def push(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    text: str,
    action: str,
    chat_id: str | None = None,
    card: dict[str, Any] | None = None,
) -> Message:
    """Queue a message to a platform user's direct chat (or a group chat) in this transaction.

    It goes out through the outbox like a reply: after commit, in order, retried, sent once.
    A card (storage.cards.TaskCard.as_json) goes with it to platforms that show cards.
    """
    conversation = await get_or_create_conversation(
        session, platform, chat_id or user_id, user_id, is_group=chat_id not in (None, user_id)
    )
    return record_outbound(
        session,
        conversation_id=conversation.id,
        platform=platform,
        text=text,
        reply_to_id=None,
        action=action,
        card=card,
    )


async def push_to_resident(
    session: AsyncSession, resident: Resident, text: str, action: str
) -> Message:
    """Tell a resident something in their direct chat on the platform they came from."""
    return await push(
        session,
        platform=resident.platform,
        user_id=resident.platform_user_id,
        text=text,
        action=action,
    )


async def push_to_identity(
    session: AsyncSession,
    who: Worker | PartnerUnit,
    text: str,
    action: str,
    card: dict[str, Any] | None = None,
) -> Message | None:
    """Send a notice to a worker or partner unit; None (logged) when it has no chat identity."""
    if not who.platform or not who.platform_user_id:
        log.warning("%r has no chat identity; push %s not sent", who.name, action)
        return None
    return await push(
        session,
        platform=who.platform,
        user_id=who.platform_user_id,
        text=text,
        action=action,
        card=card,
    )


async def push_to_worker(
    session: AsyncSession,
    worker: Worker,
    text: str,
    action: str,
    card: dict[str, Any] | None = None,
) -> Message | None:
    """Send a task or notice to a worker (grid worker, leader, staff)."""
    return await push_to_identity(session, worker, text, action, card)


async def push_to_unit(
    session: AsyncSession, unit: PartnerUnit, text: str, action: str
) -> Message | None:
    """Notify a partner unit (only recorded when it has no chat identity)."""
    return await push_to_identity(session, unit, text, action)
